import Foundation
import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// Writes usage records and key counters in batches, off the response path, so that no input stops accounting.
///
/// `record` only appends to a bounded in-memory queue (a lock and an array append); when the queue is
/// full (`USAGE_QUEUE_MAX`) the record goes to the pending spill file instead, so the response path
/// never waits. Every `interval` the queue is written in one transaction: inserts are idempotent
/// (`ON CONFLICT (id) DO NOTHING`) and key counters count only the rows actually inserted. A batch
/// the database refuses is retried one row at a time; a row refused for its content goes to the
/// dead-letter file and the rest go in. While the database is unreachable the queue is kept and
/// retried. Shutdown writes what it can within `shutdownBound` and spills the rest to the pending
/// file, which the next start re-imports (see ``importSpilled()``).
public final class UsageRecorder: Service, Sendable {
    private let database: Database
    private let interval: Duration
    private let queueLimit: Int
    private let shutdownBound: Duration
    public let spill: UsageSpillFile
    private let logger: Logger
    /// Counts write failures for `/metrics`.
    private let metrics: GatewayMetrics?
    /// Run with every batch's inserted records (late budget charges).
    private let hooks: [any UsageWriteHook]
    private let state = Mutex(State())
    /// One flush at a time: a caller of ``flush()`` returns only after a flush already under way has written too.
    private let writing = AsyncLock()
    /// The pause between a shutdown's tries to write what is left.
    private static let drainRetryPause: Duration = .milliseconds(250)
    /// Rows per INSERT statement: 20 columns each keeps a statement under SQLite's bound-variable limit.
    package static let rowsPerStatement = 150

    private struct State {
        package var pending: [UsageRecord] = []
        /// Set while the database cannot be reached, so an outage is logged once, not per flush.
        package var outage = false
        package var overflowLogged = false
    }

    package init(
        database: Database,
        interval: Duration = .milliseconds(200),
        queueLimit: Int = 100_000,
        shutdownBound: Duration = .seconds(10),
        spill: UsageSpillFile,
        logger: Logger,
        metrics: GatewayMetrics? = nil,
        hooks: [any UsageWriteHook] = []
    ) {
        self.metrics = metrics
        self.hooks = hooks
        self.database = database
        self.interval = interval
        self.queueLimit = queueLimit
        self.shutdownBound = shutdownBound
        self.spill = spill
        self.logger = logger
    }

    /// Queues a record; returns at once. Past the queue limit the record is appended to the pending file.
    public func record(_ record: UsageRecord) {
        let (accepted, logOverflow) = state.withLock { state -> (Bool, Bool) in
            if state.pending.count < queueLimit {
                state.pending.append(record)
                return (true, false)
            }
            defer { state.overflowLogged = true }
            return (false, !state.overflowLogged)
        }
        guard !accepted else { return }
        if logOverflow {
            logger.warning("usage queue full; records go to the pending file until it drains", metadata: ["limit": "\(queueLimit)"])
        }
        spill.append([record], to: .pending)
    }

    public var pendingCount: Int { state.withLock { $0.pending.count } }

    public func run() async throws {
        // Only the wait is cut short by a graceful shutdown: a write in progress finishes, then the rest is written.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            await flush()
        }
        guard !Task.isCancelled else {
            // Cancelled (a service failed, or the process must stop now): no database wait at all, the
            // records go to the pending file for the next start.
            spill.append(takeAll(), to: .pending)
            return
        }
        await drain(within: shutdownBound)
    }

    /// Writes everything queued so far; what the database cannot take now stays queued.
    public func flush() async {
        try? await writing.withLock { await self.flushNow() }
    }

    private func flushNow() async {
        let batch = takeAll()
        guard !batch.isEmpty else { return }
        let unwritten = await writeResiliently(batch)
        guard !unwritten.isEmpty else { return }
        let overflow = state.withLock { state -> [UsageRecord] in
            state.pending.insert(contentsOf: unwritten, at: 0)
            guard state.pending.count > queueLimit else { return [] }
            let excess = Array(state.pending[queueLimit...])
            state.pending.removeSubrange(queueLimit...)
            return excess
        }
        spill.append(overflow, to: .pending)
    }

    /// Shutdown: writes for at most `bound`, then puts whatever is left in the pending file, so the
    /// process exits in time even when the database is gone or a write hangs. A write the database
    /// refuses for the moment (no connection free on a loaded server) is tried again until then.
    public func drain(within bound: Duration) async {
        let batch = takeAll()
        guard !batch.isEmpty else { return }
        // A second short of the bound is left for the file.
        let writeBudget = bound > .seconds(2) ? bound - .seconds(1) : bound / 2
        let giveUp = ContinuousClock.now + writeBudget
        let unwritten =
            await withDeadline(writeBudget) {
                var left = batch
                while !left.isEmpty {
                    left = await self.writeResiliently(left)
                    guard !left.isEmpty, ContinuousClock.now + Self.drainRetryPause < giveUp else { break }
                    try? await Task.sleep(for: Self.drainRetryPause)
                }
                return left
            } ?? batch
        guard !unwritten.isEmpty else { return }
        logger.warning("usage records kept in the pending file for the next start", metadata: [
            "count": "\(unwritten.count)", "file": "\(spill.path(.pending))",
        ])
        spill.append(unwritten + takeAll(), to: .pending)
    }

    /// Writes the records a previous run left in the pending file; safe to repeat (ids are unique).
    /// When the database cannot take them, the file is kept for the next try.
    public func importSpilled() async {
        guard let taken = spill.takePending() else { return }
        let records = taken.records
        // Damaged lines that cannot even be set aside keep the claimed file for the next start.
        var keepClaimed = false
        if !taken.damagedLines.isEmpty {
            keepClaimed = !spill.setAside(damagedLines: taken.damagedLines)
            logger.warning("unreadable lines of the pending usage file moved to the dead-letter file", metadata: [
                "count": "\(taken.damagedLines.count)", "file": "\(spill.path(.deadLetter))",
            ])
        }
        var unwritten: [UsageRecord] = []
        var start = 0
        while start < records.count {
            let chunk = Array(records[start..<min(start + 1000, records.count)])
            unwritten += await writeResiliently(chunk)
            start += 1000
        }
        if !unwritten.isEmpty {
            spill.append(unwritten, to: .pending)
        } else {
            logger.notice("usage records re-imported from the pending file", metadata: ["count": "\(records.count)"])
        }
        if !keepClaimed { spill.finishImport(taken.claimed) }
    }

    private func takeAll() -> [UsageRecord] {
        state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    /// Writes `batch`; returns the records the database could not take because it is unavailable.
    /// Records refused for their content go to the dead-letter file and are not returned.
    private func writeResiliently(_ batch: [UsageRecord]) async -> [UsageRecord] {
        do {
            try await insert(batch)
            noteRecovered()
            return []
        } catch let error where !Database.isDataError(error) {
            metrics?.recordUsageWriteFailure()
            noteOutage(error)
            return batch
        } catch {
            metrics?.recordUsageWriteFailure()
            // One bad row fails the whole statement: find it by writing one row at a time.
        }
        for (index, record) in batch.enumerated() {
            do {
                try await insert([record])
            } catch let error where Database.isDataError(error) {
                logger.error("usage record refused by the database; set aside in the dead-letter file", metadata: [
                    "record.id": "\(record.id)", "error": "\(Database.describe(error))",
                ])
                spill.append([record], to: .deadLetter, reason: Database.describe(error))
            } catch {
                noteOutage(error)
                return Array(batch[index...])
            }
        }
        noteRecovered()
        return []
    }

    private func noteOutage(_ error: any Error) {
        let first = state.withLock { state -> Bool in
            defer { state.outage = true }
            return !state.outage
        }
        if first {
            logger.error("cannot write usage records; keeping them and retrying", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    private func noteRecovered() {
        let recovered = state.withLock { state -> Bool in
            defer { state.outage = false; state.overflowLogged = false }
            return state.outage
        }
        if recovered { logger.notice("usage records are being written again") }
    }

    /// One transaction: the rows (existing ids skipped), then counters, rollups and hooks for the rows that went in.
    private func insert(_ batch: [UsageRecord]) async throws {
        let committed = try await database.transaction { [hooks, dialect = database.dialect] sql in
            let inserted = try await Self.insertRows(batch, dialect: dialect, on: sql)
            var afterCommit: [@Sendable () -> Void] = []
            for hook in hooks {
                if let work = try await hook.writing(inserted, on: sql) { afterCommit.append(work) }
            }
            return afterCommit
        }
        for work in committed { work() }
    }

    /// Inserts `batch` in the caller's transaction (ids already there are skipped), then adds the records
    /// that went in to their keys' counters and to the rollups; returns those records.
    package static func insertRows(_ batch: [UsageRecord], dialect: SQLDialectKind, on sql: any SQLDatabase) async throws -> [UsageRecord] {
        var inserted = Set<String>()
        var start = 0
        while start < batch.count {
            let slice = batch[start..<min(start + rowsPerStatement, batch.count)]
            let rows = try await sql.raw("\(UsageRowsInsert(slice, dialect: dialect))").all()
            for row in rows { inserted.insert(try row.decode(column: "id", as: String.self)) }
            start += rowsPerStatement
        }
        let records = inserted.count == batch.count ? batch : batch.filter { inserted.contains($0.id) }
        var perKey: [String: (count: Int64, lastUsed: Int64)] = [:]
        for record in records where (200..<300).contains(record.status) {
            guard let keyId = record.keyId else { continue }
            let current = perKey[keyId] ?? (0, 0)
            perKey[keyId] = (current.count + 1, max(current.lastUsed, record.at))
        }
        // In id order, so that instances writing at once lock the key rows in the same order.
        for (keyId, counter) in perKey.sorted(by: { $0.key < $1.key }) {
            try await sql.raw("""
                UPDATE api_keys SET usage_count = usage_count + \(bind: counter.count),
                last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < \(bind: counter.lastUsed) THEN \(bind: counter.lastUsed) ELSE last_used_at END
                WHERE id = \(bind: keyId)
                """).run()
        }
        try await UsageRollups.add(records, on: sql)
        return records
    }
}
