import Logging
import SQLKit
import ServiceLifecycle

/// Deletes usage records older than `USAGE_RETENTION_DAYS`, keeping the rollups (reports over old
/// periods stay whole, to the hour). Runs a minute after start and then hourly, in batches of
/// ``batchRows`` with a pause between them, so each delete is a short transaction and the usage
/// writer never waits long for the database.
public final class UsagePruner: Service, Sendable {
    private let database: Database
    private let retentionDays: Int?
    private let interval: Duration
    private let logger: Logger
    package static let batchRows = 5_000

    public init(database: Database, retentionDays: Int?, interval: Duration = .seconds(3_600), logger: Logger) {
        self.database = database
        self.retentionDays = retentionDays
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // A service that returns early ends the group: without a retention there is only the wait.
        guard retentionDays != nil else {
            try? await gracefulShutdown()
            return
        }
        var wait = min(interval, .seconds(60))
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let pause = wait
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            wait = interval
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            await prune(now: Clock.nowMillis())
        }
    }

    /// Deletes every record older than the retention, batch by batch; returns how many went. A
    /// failure is logged and the rest waits for the next run.
    @discardableResult
    package func prune(now: Int64) async -> Int {
        guard let retentionDays else { return 0 }
        let cutoff = now - Int64(retentionDays) * 86_400_000
        var deleted = 0
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch: Int
            do {
                batch = try await database.run { sql in
                    try await sql.raw("""
                        DELETE FROM usage_records WHERE id IN ( \
                        SELECT id FROM usage_records WHERE at < \(bind: cutoff) ORDER BY at LIMIT \(bind: Self.batchRows)) RETURNING id
                        """).all().count
                }
            } catch {
                logger.warning("pruning usage records failed; retried at the next run", metadata: ["error": "\(Database.describe(error))"])
                break
            }
            deleted += batch
            if batch < Self.batchRows { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if deleted > 0 {
            logger.notice("usage records past their retention deleted; rollups kept", metadata: ["count": "\(deleted)", "days": "\(retentionDays)"])
        }
        return deleted
    }
}
