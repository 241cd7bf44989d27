/// Why traffic control refused or could not place a call. Doors never see it: the pipeline turns it
/// into a ``CallError`` (``CallError/init(_:)``), whose table gives status and code.
public struct TrafficError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// A budget has no room left this period (429 `budget_exceeded`).
        case budgetExceeded
        /// A request or token limit is reached (429 `rate_limit_exceeded`).
        case rateLimited
        /// Every candidate's circuit is open (503 `provider_unavailable`).
        case providerUnavailable
        /// `LIMITS_WHEN_DB_DOWN=closed` and the shared counters cannot be reached (503 `limits_unavailable`).
        case limitsUnavailable
    }

    public var kind: Kind
    public var message: String
    public var retryAfterSeconds: Int

    public var description: String { message }
}

extension CallError {
    /// A traffic refusal as a call error, with `Retry-After` (at least one second).
    init(_ error: TrafficError) {
        let kind: CallError.Kind =
            switch error.kind {
            case .budgetExceeded: .budgetExceeded
            case .rateLimited: .rateLimited
            case .providerUnavailable: .providerUnavailable
            case .limitsUnavailable: .limitsUnavailable
            }
        self.init(kind, error.message, retryAfter: "\(max(1, error.retryAfterSeconds))")
    }
}
