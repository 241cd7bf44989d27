import Foundation

/// When and how long to wait before trying an upstream again.
///
/// Retried: 429, 5xx (529 included), timeouts and connection failures. Waits grow exponentially
/// with full jitter (so retries of many calls spread out) and follow the upstream's `Retry-After`
/// up to a cap; the caller stops when the next try would pass the call's deadline.
public struct RetryPolicy: Sendable {
    public var retries = 2
    public var baseDelay: Duration = .milliseconds(250)
    public var maxDelay: Duration = .seconds(8)
    public var retryAfterCap: Duration = .seconds(20)

    public init() {}

    static func isRetryable(_ error: ProviderError) -> Bool {
        switch error {
        case .upstreamRejected(let status, _, _, _, _): status == 429 || status == 408
        case .upstreamFailed, .timeout, .unreachable: true
        case .invalidResponse, .invalidRequest: false
        }
    }

    /// The wait before retry number `retry` (1-based).
    func delay(retry: Int, after error: ProviderError) -> Duration {
        if case .upstreamRejected(_, _, _, _, let retryAfter?) = error, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)) {
            return min(.milliseconds(Int(seconds * 1000)), retryAfterCap)
        }
        let ceiling = min(maxDelay, baseDelay * (1 << min(retry - 1, 20)))
        let millis = Int(ceiling / .milliseconds(1))
        return .milliseconds(Int.random(in: 0...max(0, millis)))
    }
}
