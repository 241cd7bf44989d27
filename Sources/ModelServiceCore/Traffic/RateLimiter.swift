import Logging
import ServiceLifecycle
import Synchronization

/// Request and token limits per model and caller: in memory on SQLite (one instance), shared on
/// PostgreSQL (every instance, ``SharedRateCounters``). When PostgreSQL cannot be reached the configured
/// mode decides: `local` has each instance enforce its share of every limit (the limit divided by the
/// instances last seen alive), `closed` refuses calls that have limits.
///
/// As a `Service` it writes settled tokens and refreshes token windows every `sharedSyncMillis`,
/// keeps this instance's heartbeat row, drops ended windows, and writes what is left at shutdown.
public final class RateLimiter: Service, Sendable {
    package let shared: SharedRateCounters?
    package let instances: TrafficInstances?
    /// This instance's own counts: the only ones on SQLite; on PostgreSQL what `local` mode enforces
    /// shares against, kept from every admitted call so an outage starts from this window's real count.
    package let local: MemoryRateCounters
    public let whenDatabaseDown: TrafficSettings.WhenDatabaseDown
    private let logger: Logger
    private let now: @Sendable () -> Int64
    private let settings: TrafficSettings
    /// When the shared counters last failed (0 while they answer), and when admission may try them again.
    private let downSince = Atomic<Int64>(0)
    private let retryAt = Atomic<Int64>(0)
    /// Set once the schema is migrated: the service touches no table before.
    private let armed = Atomic<Bool>(false)

    /// While down, one admission a second tries the database again (the others count locally meanwhile).
    package static let retryMillis: Int64 = 1_000

    package init(
        database: Database?, settings: TrafficSettings, logger: Logger, now: @escaping @Sendable () -> Int64 = Clock.nowMillis
    ) {
        let postgres = database.flatMap { $0.dialect == .postgres ? $0 : nil }
        shared = postgres.map { SharedRateCounters(database: $0, capacity: settings.maxCounters, refreshMillis: settings.sharedSyncMillis) }
        instances = postgres.map { TrafficInstances(database: $0, timeoutMillis: settings.instanceTimeoutMillis) }
        local = MemoryRateCounters(capacity: settings.maxCounters)
        whenDatabaseDown = settings.limitsWhenDatabaseDown
        self.settings = settings
        self.logger = logger
        self.now = now
    }

    /// `memory` (SQLite) or `shared` (PostgreSQL), and `shared-down-local`/`shared-down-closed` while the database is down.
    public var mode: String {
        guard shared != nil else { return "memory" }
        return downSince.load(ordering: .relaxed) != 0 ? "shared-down-\(whenDatabaseDown.rawValue)" : "shared"
    }

    /// The instances a limit is shared by in `local` mode: the live ones at the last heartbeat (1 on SQLite).
    public var instanceCount: Int { instances?.count ?? 1 }

    /// Statements the shared counters ran so far (PostgreSQL; zeros on SQLite), for benchmarks and operators.
    public var sharedStatements: (leases: Int, tokenReads: Int, tokenWrites: Int) {
        guard let shared else { return (0, 0, 0) }
        return (shared.leases.statements, shared.tokens.reads, shared.tokens.writes)
    }

    /// Counts the call or throws a 429 saying which window is full and when it reopens.
    package func admit(_ windows: [RateWindow], modelName: String) async throws(ServiceError) {
        guard !windows.isEmpty else { return }
        let time = now()
        guard let shared else {
            if let refusal = local.admit(windows, at: time) { throw Self.refused(refusal, modelName: modelName) }
            return
        }
        if mayTryShared(at: time) {
            let refusal: RateRefusal?
            do {
                refusal = try await shared.admit(windows, at: time)
            } catch {
                failed(at: time, error)
                try admitWhileDown(windows, modelName: modelName, at: time)
                return
            }
            answered()
            if let refusal { throw Self.refused(refusal, modelName: modelName) }
            local.count(windows, at: time)
            return
        }
        try admitWhileDown(windows, modelName: modelName, at: time)
    }

    /// `closed`: 503. `local`: this instance's counts against its share of each limit.
    private func admitWhileDown(_ windows: [RateWindow], modelName: String, at time: Int64) throws(ServiceError) {
        guard whenDatabaseDown == .local else {
            throw ServiceError.refusal(.limitsUnavailable, "Rate limits cannot be checked right now; retry shortly.", retryAfterSeconds: 5)
        }
        let instances = instanceCount
        guard let refusal = local.admit(windows.map { $0.share(of: instances) }, at: time) else { return }
        let whole = windows.first { $0.counterKey == refusal.window.counterKey }?.limit ?? refusal.window.limit
        throw Self.refused(
            refusal, modelName: modelName,
            note: instances > 1 ? " (this instance's share of \(whole) while the shared counters cannot be reached)" : "")
    }

    package static func refused(_ refusal: RateRefusal, modelName: String, note: String = "") -> ServiceError {
        let window = refusal.window
        let team = window.caller.hasPrefix("team:") ? "team \(window.caller.dropFirst(5))" : nil
        let owner =
            switch (team, window.model == RateWindow.anyModel) {
            case (let team?, true): "\(team) (every model)"
            case (let team?, false): "\(team) for model '\(modelName)'"
            case (nil, true): "this access token"
            case (nil, false): "model '\(modelName)'"
            }
        return ServiceError.refusal(.rateLimited, "Rate limit of \(owner) reached: \(window.limit) \(window.unit.rawValue) per \(window.spanName)\(note).",
            retryAfterSeconds: Int(max(1, (refusal.waitMillis + 999) / 1000))
        )
    }

    /// Adds the tokens a settled call used to its token windows, in memory: on PostgreSQL the next
    /// sync writes them to the shared rows (no statement per call).
    package func settle(tokens: Int, windows: [RateWindow]) {
        guard tokens > 0, windows.contains(where: { $0.unit == .tokens }) else { return }
        let time = now()
        local.add(tokens: tokens, to: windows, at: time)
        shared?.add(tokens: tokens, to: windows, at: time)
    }

    // MARK: Database down

    private func mayTryShared(at time: Int64) -> Bool {
        guard downSince.load(ordering: .relaxed) != 0 else { return true }
        let retry = retryAt.load(ordering: .relaxed)
        guard time >= retry else { return false }
        return retryAt.compareExchange(expected: retry, desired: time + Self.retryMillis, ordering: .relaxed).exchanged
    }

    private func answered() {
        guard downSince.load(ordering: .relaxed) != 0, downSince.exchange(0, ordering: .relaxed) != 0 else { return }
        logger.info("shared rate-limit counters reachable again", metadata: ["traffic.mode": "shared"])
    }

    private func failed(at time: Int64, _ error: any Error) {
        retryAt.store(time + Self.retryMillis, ordering: .relaxed)
        guard downSince.compareExchange(expected: 0, desired: max(1, time), ordering: .relaxed).exchanged else { return }
        logger.warning(
            "shared rate-limit counters unreachable",
            metadata: ["traffic.mode": "\(whenDatabaseDown.rawValue)", "traffic.instances": "\(instanceCount)", "error": "\(Database.describe(error))"])
    }

    // MARK: Service

    /// Writes settled tokens and refreshes the token windows in use (PostgreSQL).
    package func sync() async {
        guard let shared else { return }
        let time = now()
        do {
            if try await shared.sync(at: time) { answered() }
        } catch {
            failed(at: time, error)
        }
    }

    /// Refreshes this instance's heartbeat row and the count of live instances (PostgreSQL).
    package func heartbeat() async {
        guard let instances else { return }
        let time = now()
        do {
            try await instances.beat(at: time)
            answered()
        } catch {
            failed(at: time, error)
        }
    }

    /// Lets the service start its heartbeat and token writes; called once the database is migrated.
    public func arm() {
        armed.store(true, ordering: .relaxed)
    }

    public func run() async throws {
        guard let shared, let instances else {
            // SQLite: only ended windows to drop, once a minute.
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
                local.purge(before: now())
            }
            return
        }
        var lastBeat: Int64?
        var lastPurge = now()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            guard armed.load(ordering: .relaxed) else {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(self.settings.sharedSyncMillis)) }
                continue
            }
            if lastBeat.map({ now() - $0 >= settings.heartbeatMillis }) ?? true {
                lastBeat = now()
                await heartbeat()
            }
            await sync()
            let time = now()
            if time - lastPurge >= 60_000 {
                lastPurge = time
                local.purge(before: time)
                try? await shared.purge(before: time)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(self.settings.sharedSyncMillis)) }
        }
        guard armed.load(ordering: .relaxed) else { return }
        await sync()
        try? await instances.leave()
    }
}
