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

    /// Rate limits (429, 408), upstream failures (5xx, 529), timeouts and connection failures.
    static func isRetryable(_ error: CallError) -> Bool {
        switch error.kind {
        case .upstreamRateLimited, .upstreamFailed, .upstreamTimeout, .upstreamUnreachable: true
        case .upstreamRejected: error.upstreamStatus == 408
        default: false
        }
    }

    /// The wait before retry number `retry` (1-based): the upstream's `Retry-After` up to the cap, else backoff with jitter.
    func delay(retry: Int, after error: CallError) -> Duration {
        if let retryAfter = error.retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)) {
            return min(.milliseconds(Int(seconds * 1000)), retryAfterCap)
        }
        let ceiling = min(maxDelay, baseDelay * (1 << min(retry - 1, 20)))
        let millis = Int(ceiling / .milliseconds(1))
        return .milliseconds(Int.random(in: 0...max(0, millis)))
    }
}
