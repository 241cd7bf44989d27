/// How webhooks are delivered, from the environment (`WEBHOOK_*`).
public struct WebhookSettings: Sendable {
    /// How often the dispatcher looks for due deliveries.
    public var pollMillis: Int64 = 1_000
    /// Wait before the first retry; doubled for each further one, up to `retryMaxMillis`.
    public var retryBaseMillis: Int64 = 1_000
    public var retryMaxMillis: Int64 = 300_000
    /// Sends per delivery before it is marked failed.
    public var maxAttempts = 8
    /// One send, connection and answer together.
    public var timeoutMillis: Int64 = 10_000
    /// Finished deliveries older than this are dropped from the log.
    public var retentionDays = 30

    public init() {}

    public init(environment: [String: String]) throws(ConfigurationError) {
        pollMillis = Int64(try TrafficSettings.int(environment, "WEBHOOK_POLL_MS", default: 1_000, range: 10...600_000))
        retryBaseMillis = Int64(try TrafficSettings.int(environment, "WEBHOOK_RETRY_BASE_MS", default: 1_000, range: 1...3_600_000))
        retryMaxMillis = Int64(try TrafficSettings.int(environment, "WEBHOOK_RETRY_MAX_MS", default: 300_000, range: 1...86_400_000))
        maxAttempts = try TrafficSettings.int(environment, "WEBHOOK_MAX_ATTEMPTS", default: 8, range: 1...50)
        timeoutMillis = Int64(try TrafficSettings.int(environment, "WEBHOOK_TIMEOUT_MS", default: 10_000, range: 100...120_000))
        retentionDays = try TrafficSettings.int(environment, "WEBHOOK_RETENTION_DAYS", default: 30, range: 1...3_650)
    }

    /// The wait after failed attempt number `attempt` (1-based): base × 2^(attempt−1), at most the maximum; never traps.
    public func backoffMillis(afterAttempt attempt: Int) -> Int64 {
        let doublings = min(max(attempt - 1, 0), 40)
        let (delay, overflow) = retryBaseMillis.multipliedReportingOverflow(by: Int64(1) << doublings)
        return overflow ? retryMaxMillis : min(delay, retryMaxMillis)
    }
}
