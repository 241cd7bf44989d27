import Foundation

/// When and how long to wait before trying an upstream again.
///
/// Retried: 429, 5xx (529 included), timeouts and connection failures. Waits grow exponentially
/// with full jitter (so retries of many calls spread out) and follow the upstream's `Retry-After`
/// up to a cap; the caller stops when the next try would pass the call's deadline.
public struct RetryPolicy: Sendable {
    public var retries = 2
    /// Upstream attempts one call may make in all, retries and fallbacks together.
    public var maxAttempts = 10
    public var baseDelay: Duration = .milliseconds(250)
    public var maxDelay: Duration = .seconds(8)
    public var retryAfterCap: Duration = .seconds(20)

    public init() {}

    /// Rate limits (429, 408), upstream failures (5xx, 529), timeouts and connection failures.
    package static func isRetryable(_ error: ServiceError) -> Bool {
        switch error.kind {
        case .upstreamRateLimited, .upstreamFailed, .upstreamTimeout, .upstreamUnreachable: true
        case .upstreamRejected: error.upstreamStatus == 408
        default: false
        }
    }

    /// The wait before retry number `retry` (1-based): the upstream's `Retry-After` up to the cap, else backoff with jitter.
    package func delay(retry: Int, after error: ServiceError, now: Date = Date()) -> Duration {
        if let wait = Self.retryAfter(error.retryAfter, now: now, cap: retryAfterCap) { return wait }
        let ceiling = min(maxDelay, baseDelay * (1 << min(retry - 1, 20)))
        let millis = Int(ceiling / .milliseconds(1))
        return .milliseconds(Int.random(in: 0...max(0, millis)))
    }

    /// An upstream's `Retry-After`, in seconds (`2`, `1.5`, even `1e300`) or as an HTTP date, at most
    /// `cap`; nil when it is neither. Read saturating: it is an upstream's number.
    package static func retryAfter(_ header: String?, now: Date, cap: Duration) -> Duration? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let capMillis = Saturating.milliseconds(cap)
        if let seconds = Double(text) {
            return .milliseconds(Saturating.int(seconds * 1000, in: 0...capMillis))
        }
        guard let date = try? Date(text, strategy: httpDate) else { return nil }
        return .milliseconds(Saturating.int(date.timeIntervalSince(now) * 1000, in: 0...capMillis))
    }

    /// RFC 9110's IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), the form HTTP dates are sent in.
    private static let httpDate = Date.ParseStrategy(
        format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
        locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT") ?? .gmt)
}
