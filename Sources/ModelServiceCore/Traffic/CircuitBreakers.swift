import Foundation
import Synchronization

/// One circuit per deployment (provider, base URL, upstream model, deployment id), fed by the gateway's real calls only.
///
/// Closed: calls go through. Open (after `consecutiveFailures` failures in a row, or an error rate
/// over `errorRate` in the last `window` calls): calls are refused for `openMillis`. Then half-open:
/// exactly one call goes through; its success closes the circuit, its failure opens it again.
/// Counted in memory per instance: each instance learns an upstream is down from its own traffic.
public final class CircuitBreakers: Sendable {
    public struct Settings: Sendable {
        public var consecutiveFailures = 5
        public var errorRate = 0.5
        public var window = 20
        public var openMillis: Int64 = 30_000
        /// Most circuits kept; beyond it closed, healthy circuits are forgotten first.
        public var maxCircuits = 10_000

        public init() {}
    }

    public struct Key: Hashable, Sendable {
        public var provider: ProviderKind
        public var baseURL: String
        public var upstreamModel: String
        /// The deployment calls go through (nil for a key made outside the pipeline).
        public var deployment: String? = nil

        /// A deployment names one upstream, so its id alone is hashed: a call looks its circuit up
        /// several times, and hashing the URL and model each time was most of the lookup's cost.
        public func hash(into hasher: inout Hasher) {
            if let deployment {
                hasher.combine(deployment)
            } else {
                hasher.combine(provider)
                hasher.combine(baseURL)
                hasher.combine(upstreamModel)
            }
        }
    }

    public enum State: String, Sendable, Encodable {
        case closed, open
        case halfOpen = "half_open"
    }

    /// What `GET /api/providers/health` shows of one circuit: no key, no upstream message.
    public struct Status: Sendable, Encodable {
        public var provider: String
        public var baseURL: String
        public var upstreamModel: String
        public var deployment: String?
        /// What the router knows of the deployment's room (in flight, latency, the provider's last word on its limits).
        public var headroom: DeploymentRouter.Status?
        public var state: State
        public var recentErrorRate: Double
        public var recentCalls: Int
        public var consecutiveFailures: Int
        public var lastError: String?
        public var lastErrorAt: String?
        public var retryAfterSeconds: Int?
    }

    private struct Circuit {
        package var state = State.closed
        package var consecutiveFailures = 0
        package var recent: [Bool] = []
        package var openedAt: Int64 = 0
        package var probeInFlight = false
        package var lastError: String?
        package var lastErrorAt: Int64?
    }

    public enum Permit: Sendable, Equatable {
        case allowed
        case refused(retryAfterSeconds: Int)
    }

    package let settings: Settings
    private let circuits = Mutex<[Key: Circuit]>([:])
    private let now: @Sendable () -> Int64
    /// Told once per opening (closed or half-open to open), outside the lock: the `circuit.open` alert.
    private let opened: (@Sendable (Key, _ lastError: String?, _ retryAfterSeconds: Int) -> Void)?

    public init(
        settings: Settings = Settings(), now: @escaping @Sendable () -> Int64 = Clock.nowMillis,
        opened: (@Sendable (Key, _ lastError: String?, _ retryAfterSeconds: Int) -> Void)? = nil
    ) {
        self.settings = settings
        self.now = now
        self.opened = opened
    }

    /// Asks to send one call; a half-open circuit lets only its single probe through.
    public func acquire(_ key: Key) -> Permit {
        let time = now()
        return circuits.withLock { circuits in
            guard var circuit = circuits[key] else { return .allowed }
            defer { circuits[key] = circuit }
            switch circuit.state {
            case .closed:
                return .allowed
            case .open:
                let reopensAt = circuit.openedAt + settings.openMillis
                if time < reopensAt { return .refused(retryAfterSeconds: Int((reopensAt - time + 999) / 1000)) }
                circuit.state = .halfOpen
                circuit.probeInFlight = true
                return .allowed
            case .halfOpen:
                if circuit.probeInFlight { return .refused(retryAfterSeconds: 1) }
                circuit.probeInFlight = true
                return .allowed
            }
        }
    }

    /// Records the outcome of a call let through: success, failure (with a short label), or nil when
    /// it ended without telling anything about the upstream (cancelled, client error).
    public func record(_ key: Key, success: Bool?, error: String? = nil) {
        let time = now()
        let justOpened: String?? = circuits.withLock { circuits -> String?? in
            var circuit = circuits[key] ?? Circuit()
            let wasProbe = circuit.state == .halfOpen && circuit.probeInFlight
            circuit.probeInFlight = false
            guard let success else {
                if circuits[key] != nil { circuits[key] = circuit }
                return nil
            }
            let wasOpen = circuit.state == .open
            circuit.recent.append(success)
            if circuit.recent.count > settings.window { circuit.recent.removeFirst(circuit.recent.count - settings.window) }
            if success {
                circuit.consecutiveFailures = 0
                if circuit.state != .closed {
                    circuit.state = .closed
                    circuit.recent = [true]
                }
            } else {
                circuit.consecutiveFailures += 1
                circuit.lastError = error
                circuit.lastErrorAt = time
                let failures = circuit.recent.filter { !$0 }.count
                let rateTripped = circuit.recent.count >= settings.window / 2
                    && Double(failures) / Double(circuit.recent.count) > settings.errorRate
                if wasProbe || circuit.state == .open || circuit.consecutiveFailures >= settings.consecutiveFailures || rateTripped {
                    circuit.state = .open
                    circuit.openedAt = time
                }
            }
            if circuits[key] == nil, circuits.count >= settings.maxCircuits { Self.evict(&circuits, keeping: settings.maxCircuits / 2) }
            circuits[key] = circuit
            return circuit.state == .open && !wasOpen ? .some(circuit.lastError) : nil
        }
        if let opened, case .some(let lastError) = justOpened {
            opened(key, lastError, Int(min(settings.openMillis / 1000 + 1, Int64(Int32.max))))
        }
    }

    /// Every circuit, open ones first.
    public func statuses() -> [Status] {
        let time = now()
        let open = settings.openMillis
        return circuits.withLock { circuits in
            circuits.map { key, circuit in
                let failures = circuit.recent.filter { !$0 }.count
                return Status(
                    provider: key.provider.rawValue, baseURL: key.baseURL, upstreamModel: key.upstreamModel, deployment: key.deployment,
                    state: circuit.state,
                    recentErrorRate: circuit.recent.isEmpty ? 0 : Double(failures) / Double(circuit.recent.count),
                    recentCalls: circuit.recent.count, consecutiveFailures: circuit.consecutiveFailures,
                    lastError: circuit.lastError, lastErrorAt: circuit.lastErrorAt.map(Clock.iso8601(millis:)),
                    retryAfterSeconds: circuit.state == .open ? max(0, Int((circuit.openedAt + open - time + 999) / 1000)) : nil
                )
            }
        }.sorted { ($0.state == .closed ? 1 : 0, $0.provider, $0.upstreamModel) < ($1.state == .closed ? 1 : 0, $1.provider, $1.upstreamModel) }
    }

    private static func evict(_ circuits: inout [Key: Circuit], keeping: Int) {
        let healthy = circuits.filter { $0.value.state == .closed && $0.value.consecutiveFailures == 0 }.map(\.key)
        for key in healthy.prefix(max(0, circuits.count - keeping)) { circuits.removeValue(forKey: key) }
        while circuits.count > keeping, let key = circuits.first(where: { $0.value.state == .closed })?.key ?? circuits.first?.key {
            circuits.removeValue(forKey: key)
        }
    }
}
