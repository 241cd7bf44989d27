import Foundation
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// Writes usage records and key counters in batches, off the response path.
///
/// `record` only appends to an in-memory buffer (a lock and an array append); the service loop
/// writes the buffer every `interval` in one transaction: one multi-row insert plus one counter
/// update per key used. On graceful shutdown it writes what is left, so nothing is lost; a batch that
/// fails to write is kept and retried.
public final class UsageRecorder: Service, Sendable {
    private let database: Database
    private let interval: Duration
    private let logger: Logger
    private let pending = Mutex<[UsageRecord]>([])
    private let metrics: GatewayMetrics?
    /// Rows per INSERT statement: 20 columns each keeps a statement under SQLite's bound-variable limit.
    static let rowsPerStatement = 150

    public init(database: Database, interval: Duration = .milliseconds(200), logger: Logger, metrics: GatewayMetrics? = nil) {
        self.database = database
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    /// Queues a record; returns at once.
    public func record(_ record: UsageRecord) {
        pending.withLock { $0.append(record) }
    }

    public var pendingCount: Int { pending.withLock { $0.count } }

    public func run() async throws {
        // Only the wait is cut short by shutdown: a write in progress finishes, then the rest is written.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
    }

    /// Writes everything queued so far.
    public func flush() async {
        let batch = pending.withLock { records -> [UsageRecord] in
            defer { records.removeAll(keepingCapacity: true) }
            return records
        }
        guard !batch.isEmpty else { return }
        do {
            try await write(batch)
        } catch {
            metrics?.recordUsageWriteFailure()
            logger.error("writing usage records failed; will retry", metadata: ["count": "\(batch.count)", "error": "\(Database.describe(error))"])
            pending.withLock { $0.insert(contentsOf: batch, at: 0) }
        }
    }

    private func write(_ batch: [UsageRecord]) async throws {
        var perKey: [String: (count: Int64, lastUsed: Int64)] = [:]
        for record in batch where (200..<300).contains(record.status) {
            guard let keyId = record.keyId else { continue }
            let current = perKey[keyId] ?? (0, 0)
            perKey[keyId] = (current.count + 1, max(current.lastUsed, record.at))
        }
        let keyCounters = perKey
        try await database.transaction { sql in
            var start = 0
            while start < batch.count {
                let slice = batch[start..<min(start + Self.rowsPerStatement, batch.count)]
                var insert = sql.insert(into: "usage_records").columns(
                    "id", "at", "user_id", "token_id", "model", "provider", "key_id", "key_source", "prompt_tokens",
                    "completion_tokens", "total_tokens", "cost", "latency_ms", "status", "streamed", "error_code",
                    "request_id", "attempts", "usage_estimated", "requested_model"
                )
                for record in slice {
                    insert = insert.values(
                        SQLBind(record.id), SQLBind(record.at), SQLBind(record.userId), SQLBind(record.tokenId), SQLBind(record.model),
                        SQLBind(record.provider.rawValue), SQLBind(record.keyId), SQLBind(record.keySource),
                        SQLBind(record.promptTokens), SQLBind(record.completionTokens), SQLBind(record.totalTokens),
                        SQLBind(record.cost), SQLBind(record.latencyMs), SQLBind(record.status), SQLBind(record.streamed),
                        SQLBind(record.errorCode), SQLBind(record.requestId), SQLBind(record.attempts),
                        SQLBind(record.usageEstimated), SQLBind(record.requestedModel)
                    )
                }
                try await insert.run()
                start += Self.rowsPerStatement
            }
            for (keyId, counter) in keyCounters {
                try await sql.raw("""
                    UPDATE api_keys SET usage_count = usage_count + \(bind: counter.count),
                    last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < \(bind: counter.lastUsed) THEN \(bind: counter.lastUsed) ELSE last_used_at END
                    WHERE id = \(bind: keyId)
                    """).run()
            }
        }
    }
}
