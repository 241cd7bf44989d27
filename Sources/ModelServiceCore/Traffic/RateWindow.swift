/// One limit to check for a call: a fixed window (aligned to UTC multiples of its span) of requests
/// or tokens, per model and caller.
public struct RateWindow: Sendable, Hashable {
    public enum Unit: String, Sendable {
        case requests, tokens
    }

    /// The `model` of a window counted over every model (an access token's own limits).
    public static let anyModel = "*"

    public let model: String
    public let caller: String
    public let unit: Unit
    public let spanMillis: Int64
    public var limit: Int
    /// The counter's name: model id, caller, unit and span. Made once: every counter a call touches
    /// (memory, leases, token tallies) is keyed by it.
    package let counterKey: String

    public init(model: String, caller: String, unit: Unit, spanMillis: Int64, limit: Int) {
        self.model = model
        self.caller = caller
        self.unit = unit
        self.spanMillis = spanMillis
        self.limit = limit
        counterKey = "\(model)|\(unit.rawValue)|\(spanMillis)|\(caller)"
    }

    package var spanName: String {
        switch spanMillis {
        case 60_000: "minute"
        case 3_600_000: "hour"
        default: "day"
        }
    }

    package func start(at time: Int64) -> Int64 { time - time % spanMillis }

    /// The window with one instance's share of the limit, rounded up, when `instances` share it.
    package func share(of instances: Int) -> RateWindow {
        guard instances > 1 else { return self }
        var window = self
        window.limit = (limit + instances - 1) / instances
        return window
    }

    /// The windows a model's limits define for a caller.
    package static func windows(for model: Model, caller: String) -> [RateWindow] {
        let limits: [(Int?, Unit, Int64)] = [
            (model.rateLimitPerMinute, .requests, 60_000), (model.rateLimitPerHour, .requests, 3_600_000),
            (model.rateLimitPerDay, .requests, 86_400_000), (model.tokenLimitPerMinute, .tokens, 60_000),
            (model.tokenLimitPerDay, .tokens, 86_400_000),
        ]
        return limits.compactMap { limit, unit, span in
            limit.map { RateWindow(model: model.id, caller: caller, unit: unit, spanMillis: span, limit: $0) }
        }
    }
}

/// A refused window: which one, and how long until it reopens.
package struct RateRefusal: Error, Sendable {
    package var window: RateWindow
    package var waitMillis: Int64
}

/// Where rate-limit windows are counted: in memory, or shared by every instance on PostgreSQL.
package protocol RateCounters: Sendable {
    /// Counts one request against every request window and checks every token window, all or
    /// nothing: a refused call counts against none of them.
    func admit(_ windows: [RateWindow], at time: Int64) async throws -> RateRefusal?
    /// Adds a settled call's tokens to its token windows.
    func add(tokens: Int, to windows: [RateWindow], at time: Int64) async throws
    /// Forgets windows that have ended.
    func purge(before time: Int64) async throws
}
