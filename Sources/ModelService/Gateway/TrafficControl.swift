import Foundation
import HTTPTypes
import Synchronization

/// The model's rate limits (`rateLimitPerMinute`, `…PerHour`, `…PerDay`), per model and caller.
///
/// Fixed windows counted in memory: a lock and a dictionary lookup per call, no database. The
/// caller is the user the call is made for, else the token. Limits hold per instance: behind a
/// load balancer with N instances a caller gets up to N times the limit (stated in the README).
public final class TrafficControl: Sendable {
    struct Window {
        var start: Int64
        var count: Int
    }

    struct Key: Hashable {
        var model: String
        var caller: String
        var span: Int64
    }

    private let windows = Mutex<[Key: Window]>([:])
    private let now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64 = Clock.nowMillis) {
        self.now = now
    }

    /// Admits the call or throws a 429 whose `Retry-After` says when the fullest window reopens.
    public func admit(model: Model, caller: String) throws(APIError) {
        let limits: [(Int?, Int64, String)] = [
            (model.rateLimitPerMinute, 60_000, "minute"), (model.rateLimitPerHour, 3_600_000, "hour"), (model.rateLimitPerDay, 86_400_000, "day"),
        ]
        guard limits.contains(where: { $0.0 != nil }) else { return }
        let time = now()
        let refusal: (String, Int64)? = windows.withLock { windows in
            // Check every window first, so a refused call counts against none of them.
            for (limit, span, name) in limits {
                guard let limit else { continue }
                let key = Key(model: model.id, caller: caller, span: span)
                let window = windows[key].flatMap { time - $0.start < span ? $0 : nil } ?? Window(start: time, count: 0)
                if window.count >= limit { return (name, window.start + span - time) }
            }
            for (limit, span, _) in limits where limit != nil {
                let key = Key(model: model.id, caller: caller, span: span)
                var window = windows[key].flatMap { time - $0.start < span ? $0 : nil } ?? Window(start: time, count: 0)
                window.count += 1
                windows[key] = window
            }
            if windows.count > 100_000 { windows = windows.filter { time - $0.value.start < $0.key.span } }
            return nil
        }
        if let (name, waitMillis) = refusal {
            let seconds = max(1, (waitMillis + 999) / 1000)
            throw APIError(
                .tooManyRequests, code: "rate_limit_exceeded",
                message: "Rate limit of model '\(model.name)' per \(name) reached; retry in \(seconds) s.",
                type: "rate_limit_exceeded", headers: [.retryAfter: "\(seconds)"])
        }
    }
}
