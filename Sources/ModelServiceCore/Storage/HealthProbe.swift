import Synchronization

/// The database check behind `GET /api/health`, cached and shared so that callers cost nothing.
///
/// At most one probe runs at a time and its answer serves every caller for `maxAge`; the probe uses
/// the pool (no new connection per call) and gives up after `timeout`, so a flood of unauthenticated
/// health calls neither opens connections nor reports false outages.
public final class HealthProbe: Sendable {
    private let database: Database
    private let maxAge: Duration
    private let timeout: Duration
    private let state = Mutex(State())

    private struct State {
        package var last: (reachable: Bool, at: ContinuousClock.Instant)?
        package var inFlight: Task<Bool, Never>?
    }

    public init(database: Database, maxAge: Duration = .seconds(1), timeout: Duration = .seconds(2)) {
        self.database = database
        self.maxAge = maxAge
        self.timeout = timeout
    }

    /// Whether the database answered a trivial query recently.
    public func isReachable() async -> Bool {
        let now = ContinuousClock.now
        let (cached, probe): (Bool?, Task<Bool, Never>?) = state.withLock { state in
            if let last = state.last, now - last.at < maxAge { return (last.reachable, nil) }
            if let running = state.inFlight { return (nil, running) }
            let task = Task { [database, timeout] in
                await withDeadline(timeout) { (try? await database.run { _ = try await $0.raw("SELECT 1").all() }) != nil } ?? false
            }
            state.inFlight = task
            return (nil, task)
        }
        if let cached { return cached }
        guard let probe else { return false }
        let reachable = await probe.value
        state.withLock { state in
            guard state.inFlight == probe else { return }
            state.last = (reachable, ContinuousClock.now)
            state.inFlight = nil
        }
        return reachable
    }
}
