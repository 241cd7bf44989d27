/// The traffic settings read from the environment (retries, circuits, counters when the database is down).
public struct TrafficSettings: Sendable {
    /// What the rate limits do when the shared counters (PostgreSQL) cannot be reached.
    public enum WhenDatabaseDown: String, Sendable, Encodable {
        /// Each instance counts on its own until the database is back.
        case local
        /// Calls with limits are refused with 503 until the database is back.
        case closed
    }

    public var retry = RetryPolicy()
    public var circuit = CircuitBreakers.Settings()
    public var limitsWhenDatabaseDown = WhenDatabaseDown.local
    /// Most rate-limit windows kept in memory (SQLite; on PostgreSQL each of: leased blocks, token
    /// windows, and this instance's own counts for `local` mode).
    public var maxCounters = 100_000
    /// PostgreSQL: how often settled tokens are written and token windows in use re-read.
    public var sharedSyncMillis: Int64 = 200
    /// PostgreSQL: how often an instance refreshes its heartbeat row, and when a silent one stops counting.
    public var heartbeatMillis: Int64 = 5_000
    public var instanceTimeoutMillis: Int64 = 30_000

    public init() {}

    public init(environment: [String: String]) throws(ConfigurationError) {
        retry.retries = try Self.int(environment, "UPSTREAM_RETRIES", default: 2, range: 0...10)
        retry.maxAttempts = try Self.int(environment, "UPSTREAM_MAX_ATTEMPTS", default: 10, range: 1...50)
        retry.baseDelay = .milliseconds(try Self.int(environment, "UPSTREAM_RETRY_BASE_MS", default: 250, range: 1...60_000))
        retry.maxDelay = .milliseconds(try Self.int(environment, "UPSTREAM_RETRY_MAX_MS", default: 8_000, range: 1...600_000))
        retry.retryAfterCap = .milliseconds(try Self.int(environment, "UPSTREAM_RETRY_AFTER_CAP_MS", default: 20_000, range: 0...600_000))
        circuit.consecutiveFailures = try Self.int(environment, "CIRCUIT_FAILURES", default: 5, range: 1...1_000)
        circuit.openMillis = Int64(try Self.int(environment, "CIRCUIT_OPEN_MS", default: 30_000, range: 1...3_600_000))
        if let raw = environment["LIMITS_WHEN_DB_DOWN"], !raw.isEmpty {
            guard let mode = WhenDatabaseDown(rawValue: raw.lowercased()) else {
                throw .invalid("LIMITS_WHEN_DB_DOWN must be local or closed, got '\(raw)'")
            }
            limitsWhenDatabaseDown = mode
        }
    }

    package static func int(_ environment: [String: String], _ name: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let raw = environment[name], !raw.isEmpty else { return value }
        guard let parsed = Int(raw), range.contains(parsed) else {
            throw .invalid("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(raw)'")
        }
        return parsed
    }
}
