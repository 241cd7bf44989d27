import Logging
import SQLKit
import ServiceLifecycle
import Synchronization

/// Tells every instance sharing the database that cached data changed.
///
/// A write bumps a named counter in `change_counters` in the same transaction; each instance polls
/// the (tiny) counter table every `interval` and reloads only what changed. This works the same on
/// SQLite and PostgreSQL, costs one small query per interval, and keeps the request path free of
/// database reads. Local writes reload at once, so they are visible to the next request.
///
/// A change made with a subject (``bump(_:subject:on:)``) also leaves a row in `change_log`, so a
/// listener that asks for them reloads only the rows that changed (a registry of 10,000 models is
/// not read again for one edit). When the log does not cover every version since the last poll (a
/// bump without subject, or an instance that lagged past the log's hour), the listener reloads all.
///
/// A change counts as seen only once every listener reloaded it without error (a failed reload is
/// retried on the next poll), and every `fullReloadInterval` all listeners reload anyway, so a
/// change missed for any reason is caught within that time.
///
/// On PostgreSQL a bump also sends `NOTIFY` on ``notifyChannel`` (delivered when its transaction
/// commits), and each instance `LISTEN`s on one pooled connection and polls as soon as one arrives:
/// a change reaches the other instances within milliseconds, and the poll stays as the fallback
/// (a lost connection, or a pooler that does not pass `LISTEN`, with `CHANGE_LISTEN=false`).
public final class ChangeFeed: Service, Sendable {
    /// Called with the subjects that changed, or nil when everything must be reloaded.
    public typealias Listener = @Sendable (_ subjects: Set<String>?) async throws -> Void

    /// How long `change_log` rows are kept: an instance that lags longer reloads everything.
    package static let logRetentionMillis: Int64 = 3_600_000

    private let database: Database
    private let interval: Duration
    private let fullReloadInterval: Duration
    private let logger: Logger
    /// Whether to `LISTEN` for other instances' changes (PostgreSQL only).
    private let listens: Bool
    private let state = Mutex(State())
    /// One poll at a time: a notification and the timer may both ask for one.
    private let polling = AsyncLock()

    /// The channel every bump notifies on PostgreSQL; the payload is the counter's name.
    package static let notifyChannel = "model_service_changes"

    private struct State {
        package var listeners: [String: [Listener]] = [:]
        package var seen: [String: Int64] = [:]
        package var armed = false
        package var lastFullReload = ContinuousClock.now
        /// The last poll failed: the outage is already logged.
        package var failing = false
    }

    public init(
        database: Database, interval: Duration = .milliseconds(250), fullReloadInterval: Duration = .seconds(60), listens: Bool = true, logger: Logger
    ) {
        self.database = database
        self.listens = listens
        self.interval = interval
        self.fullReloadInterval = fullReloadInterval
        self.logger = logger
    }

    /// Calls `listener` with the subjects that changed whenever counter `name` moves (on any instance).
    public func subscribe(_ name: String, changed listener: @escaping Listener) {
        state.withLock { $0.listeners[name, default: []].append(listener) }
    }

    /// Calls `reload` whenever counter `name` moves (on any instance): a listener that reloads all.
    public func subscribe(_ name: String, _ reload: @escaping @Sendable () async throws -> Void) {
        subscribe(name, changed: { _ in try await reload() })
    }

    /// Bumps counter `name`; call inside the transaction that made the change. With a `subject` (a
    /// row's id) the change is also logged, so other instances reload only that row. Returns the
    /// counter's new version.
    @discardableResult
    public static func bump(_ name: String, subject: String? = nil, on sql: any SQLDatabase) async throws -> Int64? {
        let row = try await sql.raw("UPDATE change_counters SET version = version + 1 WHERE name = \(bind: name) RETURNING version").first()
        guard let version = try row?.decode(column: "version", as: Int64.self) else { return nil }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_notify(\(bind: notifyChannel), \(bind: name))").run()
        }
        guard let subject else { return version }
        try await sql.raw(
            "INSERT INTO change_log (counter, version, subject, at) VALUES (\(bind: name), \(bind: version), \(bind: subject), \(bind: Clock.nowMillis()))"
        ).run()
        return version
    }

    /// Creates the counters (idempotent) and records their current values, so the first poll does
    /// not reload what was just loaded at start. Polling starts after this.
    public func arm(counters: [String]) async throws {
        let current = try await database.run { sql in
            for name in counters {
                try await sql.insert(into: "change_counters").columns("name", "version")
                    .values(SQLBind(name), SQLBind(Int64(0)))
                    .ignoringConflicts(with: ["name"])
                    .run()
            }
            return try await Self.read(sql)
        }
        state.withLock {
            $0.seen = current
            $0.armed = true
        }
    }

    /// Longest wait between polls while the database is unreachable.
    package static let maxBackoff: Duration = .seconds(10)

    public func run() async throws {
        guard listens, database.dialect == .postgres else { return await pollLoop() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenLoop() }
            await pollLoop()
            group.cancelAll()
        }
    }

    /// Listens for notifications while the service runs, polling on each; a lost connection is
    /// re-listened after a pause (the timer's polls go on meanwhile).
    private func listenLoop() async {
        var failing = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await database.listen(Self.notifyChannel) { await self.poll() }
                failing = false
            } catch {
                if !failing, !Task.isCancelled {
                    logger.warning("change feed cannot listen for notifications; polling only until it can", metadata: [
                        "error": "\(Database.describe(error))",
                    ])
                }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }

    private func pollLoop() async {
        var delay = interval
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let wait = delay
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return
            }
            // Doubling while the database is gone: an outage costs a few polls, not four a second.
            delay = await poll() ? interval : min(delay * 2, max(Self.maxBackoff, interval))
        }
    }

    /// One poll; false when the database could not be read. An outage is logged once when it
    /// starts and once when it ends.
    @discardableResult
    package func poll() async -> Bool {
        (try? await polling.withLock { await self.pollNow() }) ?? false
    }

    private func pollNow() async -> Bool {
        guard state.withLock({ $0.armed }) else { return true }
        let current: [String: Int64]
        do {
            current = try await database.run { try await Self.read($0) }
        } catch {
            let first = state.withLock { state -> Bool in
                defer { state.failing = true }
                return !state.failing
            }
            if first {
                logger.error("change feed cannot read the database; retrying with backoff", metadata: ["error": "\(Database.describe(error))"])
            }
            return false
        }
        let recovered = state.withLock { state -> Bool in
            defer { state.failing = false }
            return state.failing
        }
        if recovered { logger.notice("change feed reads the database again") }
        let now = ContinuousClock.now
        let (due, full): ([(String, Int64?, Int64?, [Listener])], Bool) = state.withLock { state in
            let full = now - state.lastFullReload >= fullReloadInterval
            if full { state.lastFullReload = now }
            var due: [(String, Int64?, Int64?, [Listener])] = []
            for (name, listeners) in state.listeners {
                let version = current[name]
                if full || state.seen[name] != version { due.append((name, state.seen[name], version, listeners)) }
            }
            return (due, full)
        }
        if full { await prune() }
        for (name, seen, version, listeners) in due {
            let subjects = full ? nil : await changedSubjects(name, after: seen, upTo: version)
            var succeeded = true
            for listener in listeners {
                do {
                    try await listener(subjects)
                } catch {
                    succeeded = false
                    logger.warning("reload after change failed; retrying on the next poll", metadata: ["counter": "\(name)", "error": "\(error)"])
                }
            }
            if succeeded { state.withLock { $0.seen[name] = version } }
        }
        return true
    }

    /// The subjects of versions `(after, upTo]` of counter `name`, or nil unless the log has every one of them.
    private func changedSubjects(_ name: String, after seen: Int64?, upTo version: Int64?) async -> Set<String>? {
        guard let seen, let version, version > seen, version - seen <= 10_000 else { return nil }
        let rows = try? await database.run { sql in
            try await sql.raw(
                "SELECT subject FROM change_log WHERE counter = \(bind: name) AND version > \(bind: seen) AND version <= \(bind: version)"
            ).all()
        }
        guard let rows, Int64(rows.count) == version - seen else { return nil }
        return Set(rows.compactMap { try? $0.decode(column: "subject", as: String.self) })
    }

    /// Drops log rows past their hour, in one statement on the indexed key.
    private func prune() async {
        let before = Clock.nowMillis() - Self.logRetentionMillis
        _ = try? await database.run { sql in try await sql.raw("DELETE FROM change_log WHERE at < \(bind: before)").run() }
    }

    private static func read(_ sql: any SQLDatabase) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try await sql.raw("SELECT name, version FROM change_counters").all() {
            result[try row.decode(column: "name", as: String.self)] = try row.decode(column: "version", as: Int64.self)
        }
        return result
    }
}
