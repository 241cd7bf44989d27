import Logging
import ServiceLifecycle
import Synchronization

/// Request and token limits per model and caller: in memory on SQLite (one instance), shared on
/// PostgreSQL (every instance). When PostgreSQL cannot be reached the configured mode decides:
/// `local` counts in this instance's memory meanwhile, `closed` refuses calls that have limits.
public final class RateLimiter: Service, Sendable {
    private let shared: (any RateCounters)?
    let local: MemoryRateCounters
    public let whenDatabaseDown: TrafficSettings.WhenDatabaseDown
    private let logger: Logger
    private let now: @Sendable () -> Int64
    /// True while the shared counters failed last time (shown by `/api/health`).
    private let degraded = Atomic<Bool>(false)

    init(
        database: Database?, settings: TrafficSettings, logger: Logger, now: @escaping @Sendable () -> Int64 = Clock.nowMillis
    ) {
        shared = database.flatMap { $0.dialect == .postgres ? SharedRateCounters(database: $0) : nil }
        local = MemoryRateCounters(capacity: settings.maxCounters)
        whenDatabaseDown = settings.limitsWhenDatabaseDown
        self.logger = logger
        self.now = now
    }

    /// `memory` (SQLite) or `shared` (PostgreSQL), and `local`/`closed` while the database is down.
    public var mode: String {
        guard shared != nil else { return "memory" }
        return degraded.load(ordering: .relaxed) ? "shared-down-\(whenDatabaseDown.rawValue)" : "shared"
    }

    /// Counts the call or throws a 429 saying which window is full and when it reopens.
    func admit(_ windows: [RateWindow], modelName: String) async throws(TrafficError) {
        guard !windows.isEmpty else { return }
        let time = now()
        var refusal: RateRefusal?
        if let shared {
            do {
                refusal = try await shared.admit(windows, at: time)
                degraded.store(false, ordering: .relaxed)
            } catch {
                degraded.store(true, ordering: .relaxed)
                logger.warning("shared rate-limit counters unreachable", metadata: ["traffic.mode": "\(whenDatabaseDown.rawValue)"])
                guard whenDatabaseDown == .local else {
                    throw TrafficError(kind: .limitsUnavailable, message: "Rate limits cannot be checked right now; retry shortly.", retryAfterSeconds: 5)
                }
                refusal = local.admit(windows, at: time)
            }
        } else {
            refusal = local.admit(windows, at: time)
        }
        if let refusal {
            let window = refusal.window
            throw TrafficError(
                kind: .rateLimited,
                message: "Rate limit of model '\(modelName)' reached: \(window.limit) \(window.unit.rawValue) per \(window.spanName).",
                retryAfterSeconds: Int(max(1, (refusal.waitMillis + 999) / 1000))
            )
        }
    }

    /// Adds the tokens a call used to its token windows in memory; true when they are shared
    /// (PostgreSQL) and ``settleShared(tokens:windows:)`` must add them instead.
    func settleInMemory(tokens: Int, windows: [RateWindow]) -> Bool {
        guard tokens > 0, windows.contains(where: { $0.unit == .tokens }) else { return false }
        if shared != nil, !degraded.load(ordering: .relaxed) { return true }
        local.add(tokens: tokens, to: windows, at: now())
        return false
    }

    /// Adds the tokens to the shared windows; off the answer, errors only logged (memory counts meanwhile).
    func settleShared(tokens: Int, windows: [RateWindow]) async {
        guard let shared else { return }
        let time = now()
        do {
            try await shared.add(tokens: tokens, to: windows, at: time)
        } catch {
            degraded.store(true, ordering: .relaxed)
            local.add(tokens: tokens, to: windows, at: time)
        }
    }

    /// Drops ended windows once a minute (the shared table's rows, and memory).
    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
            let time = now()
            local.purge(before: time)
            if let shared { try? await shared.purge(before: time) }
        }
    }
}
