import Foundation
import Synchronization

/// The route step's choice among a model's deployments, call by call: by the model's strategy
/// (``Routing/Strategy``), with prompt-cache affinity keeping a conversation where its cache is warm.
///
/// Everything it knows it learned from this instance's own calls (in flight, time to first byte, the
/// provider's rate-limit headers, the deployment's own per-minute quota), held in memory under one lock:
/// no database on the call path, and a choice costs a few dictionary reads.
public final class DeploymentRouter: Sendable {
    /// What this instance knows of one deployment.
    struct Load {
        var inFlight = 0
        /// Moving average of time to first byte, in milliseconds (nil until the first answer).
        var latencyMs: Double?
        /// The provider said no more until then (milliseconds since 1970).
        var exhaustedUntil: Int64 = 0
        var remainingRequests: Int?
        var remainingRequestsUntil: Int64 = 0
        /// This minute's attempts and tokens, against the deployment's own limits.
        var minute: Int64 = 0
        var requestsThisMinute = 0
        var tokensThisMinute = 0
        /// Calls, decaying by half every five minutes: the "share of recent calls" the console shows.
        var recentCalls = 0.0
        var recentAt: Int64 = 0
        var lastError: String?
    }

    /// What `GET /api/providers/health` and the console show of a deployment.
    public struct Status: Sendable, Encodable {
        public var inFlight: Int
        public var latencyMs: Double?
        public var exhaustedUntil: String?
        public var remainingRequests: Int?
        public var recentCalls: Double
    }

    private struct State {
        var loads: [String: Load] = [:]
        var affinity = AffinityTable()
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Int64
    /// Under `latency`, the share of calls sent to one of the other deployments, so a recovered one is noticed.
    package let explorationRate: Double

    public init(explorationRate: Double = 0.1, now: @escaping @Sendable () -> Int64 = Clock.nowMillis) {
        self.explorationRate = explorationRate
        self.now = now
    }

    // MARK: route

    /// The deployments of `model` to try, in order, each as the model called through it: the one chosen
    /// first, then the others with room (heaviest first), then those out of room (tried only when nothing
    /// else is left). One active deployment, the common case, costs no lock.
    public func order(_ model: Model, conversation: Int?) -> [Model] {
        if model.deployments.count == 1, model.deployments[0].isActive { return [model.deployed(on: model.deployments[0])] }
        let active = model.deployments.filter(\.isActive)
        if active.count <= 1 { return [active.first.map(model.deployed(on:)) ?? model] }
        let time = now()
        return state.withLock { state in
            var open: [Deployment] = []
            var full: [Deployment] = []
            open.reserveCapacity(active.count)
            for deployment in active {
                if state.loads[deployment.id]?.isFull(deployment, at: time) == true { full.append(deployment) } else { open.append(deployment) }
            }
            if open.isEmpty { swap(&open, &full) }
            var first: Deployment?
            if model.routing.promptCacheAffinity, let conversation, let id = state.affinity.deployment(for: conversation, at: time) {
                first = open.first { $0.id == id }
            }
            let pick = first ?? pickByStrategy(model.routing.strategy, open, loads: state.loads, at: time)
            var ordered = [model.deployed(on: pick)]
            ordered.reserveCapacity(active.count)
            for deployment in open.sorted(by: { $0.weight > $1.weight }) where deployment.id != pick.id { ordered.append(model.deployed(on: deployment)) }
            for deployment in full { ordered.append(model.deployed(on: deployment)) }
            return ordered
        }
    }

    private func pickByStrategy(_ strategy: Routing.Strategy, _ open: [Deployment], loads: [String: Load], at time: Int64) -> Deployment {
        switch strategy {
        case .weighted:
            return Self.weighted(open)
        case .leastBusy:
            let least = open.map { loads[$0.id]?.inFlight ?? 0 }.min() ?? 0
            return Self.weighted(open.filter { (loads[$0.id]?.inFlight ?? 0) == least })
        case .latency:
            let unmeasured = open.filter { loads[$0.id]?.latencyMs == nil }
            if !unmeasured.isEmpty { return Self.weighted(unmeasured) }
            let fastest = open.min { (loads[$0.id]?.latencyMs ?? 0) < (loads[$1.id]?.latencyMs ?? 0) } ?? open[0]
            if open.count > 1, Double.random(in: 0..<1) < explorationRate { return Self.weighted(open.filter { $0.id != fastest.id }) }
            return fastest
        case .headroom:
            let room = open.map { loads[$0.id, default: Load()].room($0, at: time) }
            let most = room.max() ?? Int.max
            return Self.weighted(zip(open, room).filter { $0.1 == most }.map(\.0))
        }
    }

    /// One of `deployments` at random in proportion to the weights.
    static func weighted(_ deployments: [Deployment]) -> Deployment {
        let total = deployments.reduce(0) { $0 + max(1, $1.weight) }
        var ticket = Int.random(in: 0..<max(1, total))
        for deployment in deployments {
            ticket -= max(1, deployment.weight)
            if ticket < 0 { return deployment }
        }
        return deployments[0]
    }

    // MARK: what calls tell it

    /// An attempt starts on `deploymentId`.
    public func began(_ deploymentId: String) {
        let time = now()
        update(deploymentId) { load in
            load.inFlight += 1
            load.roll(to: time)
            load.requestsThisMinute = Saturating.add(load.requestsThisMinute, 1)
            load.recentCalls = load.decayedCalls(at: time) + 1
            load.recentAt = time
        }
    }

    /// An attempt ended: `answered` when the upstream accepted the call (it stays in flight until ``released(_:tokens:)``),
    /// after `elapsed` (its time to first byte; a failure counts as slow, so `latency` does not prefer a failing
    /// deployment). `elapsed` is nil for an attempt that says nothing of the upstream (the caller left).
    public func attemptEnded(_ deploymentId: String, answered: Bool, elapsed: Duration?) {
        update(deploymentId) { load in
            if !answered { load.inFlight = max(0, load.inFlight - 1) }
            guard let elapsed else { return }
            let sample = Double(Saturating.milliseconds(elapsed))
            let value = answered ? sample : max(sample, 10_000)
            load.latencyMs = load.latencyMs.map { $0 * 0.7 + value * 0.3 } ?? value
        }
    }

    /// The call that `deploymentId` answered has settled with `tokens`.
    public func released(_ deploymentId: String, tokens: Int) {
        let time = now()
        update(deploymentId) { load in
            load.inFlight = max(0, load.inFlight - 1)
            load.roll(to: time)
            load.tokensThisMinute = Saturating.add(load.tokensThisMinute, tokens)
        }
    }

    /// The provider's rate-limit headers on an answer of `deploymentId`.
    public func observed(_ deploymentId: String, _ limits: UpstreamRateLimits) {
        let time = now()
        update(deploymentId) { load in
            if let remaining = limits.remainingRequests {
                load.remainingRequests = remaining
                load.remainingRequestsUntil = Saturating.add(time, limits.requestsResetMillis ?? 60_000)
            }
            if let wait = limits.exhaustedForMillis { load.exhaustedUntil = max(load.exhaustedUntil, Saturating.add(time, wait)) }
        }
    }

    /// Keeps `conversation` on `deploymentId` (the deployment that just answered it).
    public func stick(_ conversation: Int, to deploymentId: String) {
        let time = now()
        state.withLock { $0.affinity.set(conversation, deploymentId, at: time) }
    }

    public func status(_ deploymentId: String) -> Status? {
        let time = now()
        return state.withLock { state in
            guard let load = state.loads[deploymentId] else { return nil }
            return Status(
                inFlight: load.inFlight, latencyMs: load.latencyMs,
                exhaustedUntil: load.exhaustedUntil > time ? Clock.iso8601(millis: load.exhaustedUntil) : nil,
                remainingRequests: load.remainingRequestsUntil > time ? load.remainingRequests : nil,
                recentCalls: (load.decayedCalls(at: time) * 10).rounded() / 10)
        }
    }

    private func update(_ deploymentId: String, _ change: (inout Load) -> Void) {
        state.withLock { state in
            // Deployments removed long ago leave their entry: start over past a bound no registry reaches.
            if state.loads.count >= 20_000, state.loads[deploymentId] == nil { state.loads.removeAll() }
            change(&state.loads[deploymentId, default: Load()])
        }
    }
}

extension DeploymentRouter.Load {
    mutating func roll(to time: Int64) {
        let minute = time / 60_000
        if minute != self.minute {
            self.minute = minute
            requestsThisMinute = 0
            tokensThisMinute = 0
        }
    }

    func decayedCalls(at time: Int64) -> Double {
        guard recentCalls > 0 else { return 0 }
        return recentCalls * pow(0.5, Double(max(0, time - recentAt)) / 300_000)
    }

    /// Out of room: the provider said so and its reset has not come, or the deployment's own quota for this minute is used.
    func isFull(_ deployment: Deployment, at time: Int64) -> Bool {
        if exhaustedUntil > time { return true }
        guard time / 60_000 == minute else { return false }
        if let limit = deployment.rateLimitPerMinute, requestsThisMinute >= limit { return true }
        if let limit = deployment.tokenLimitPerMinute, tokensThisMinute >= limit { return true }
        return false
    }

    /// Requests left: the least of the provider's last word (until its reset) and the deployment's own quota; unknown is plenty.
    func room(_ deployment: Deployment, at time: Int64) -> Int {
        var room = Int.max
        if remainingRequestsUntil > time, let remainingRequests { room = min(room, remainingRequests) }
        if let limit = deployment.rateLimitPerMinute { room = min(room, limit - (time / 60_000 == minute ? requestsThisMinute : 0)) }
        return room
    }
}
