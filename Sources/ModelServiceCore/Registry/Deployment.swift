import Foundation

/// One way of calling a registry model: a provider endpoint, its upstream model id and where its key
/// comes from. A model has one or more; the pipeline's route step picks one per call
/// (``DeploymentRouter``), and a failed attempt moves to another before the model's fallbacks.
///
/// Fields left nil follow the model's own (`provider`, `baseURL`, `modelId`, `apiKeyEnvVar`): the
/// deployment every existing model was given by migration 019 has them all nil, so it calls exactly
/// what the model called before. Stored as JSON in the model's row, so a model and its deployments
/// change together (one audit line, one change-feed bump).
public struct Deployment: Sendable, Codable, Equatable {
    /// Where the deployment's key comes from when it names none: the user's own, else shared, else the environment.
    public enum KeyPool: String, Sendable, Codable, Equatable {
        /// Every active shared key of the provider for this endpoint, spread across calls.
        case shared
    }

    public var id: String
    public var provider: ProviderKind?
    public var baseURL: String?
    public var modelId: String?
    /// A stored shared key (`/api/api-keys`): this deployment's calls use it alone.
    public var keyId: String?
    public var keyPool: KeyPool?
    /// A server environment variable holding the key, sent to this deployment's endpoint only.
    public var apiKeyEnvVar: String?
    /// Relative share of calls under the `weighted` strategy (1...1,000).
    public var weight: Int
    public var region: String?
    /// This deployment's own quota, counted per instance; at its limit it is chosen only when no other has room.
    public var rateLimitPerMinute: Int?
    public var tokenLimitPerMinute: Int?
    public var isActive: Bool
    public var createdAt: String?
    public var updatedAt: String?

    /// Most deployments one model may have: routing state and metrics labels stay bounded.
    public static let maxPerModel = 32
    public static let maxWeight = 1_000

    public init(id: String, weight: Int = 1, isActive: Bool = true) {
        self.id = id
        self.weight = weight
        self.isActive = isActive
    }

    /// The deployment created with a model (and by migration 019 for models that existed): everything follows the model.
    public static func primary(modelId: String) -> Deployment {
        Deployment(id: "dep_" + modelId)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        provider = try c.decodeIfPresent(ProviderKind.self, forKey: .provider)
        baseURL = try c.decodeIfPresent(String.self, forKey: .baseURL)
        modelId = try c.decodeIfPresent(String.self, forKey: .modelId)
        keyId = try c.decodeIfPresent(String.self, forKey: .keyId)
        keyPool = try c.decodeIfPresent(KeyPool.self, forKey: .keyPool)
        apiKeyEnvVar = try c.decodeIfPresent(String.self, forKey: .apiKeyEnvVar)
        // Read from the database, whose rows a person may have edited: bounded here, so routing's sums never overflow.
        weight = Saturating.clamp(try c.decodeIfPresent(Int.self, forKey: .weight) ?? 1, to: 1...Self.maxWeight)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        rateLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .rateLimitPerMinute).map { Saturating.clamp($0, to: 1...1_000_000_000) }
        tokenLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .tokenLimitPerMinute).map { Saturating.clamp($0, to: 1...1_000_000_000_000) }
        isActive = try c.decodeIfPresent(Bool.self, forKey: .isActive) ?? true
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt)
    }

    /// Decodes the `deployments` column; a column that cannot be read is one deployment following the model,
    /// so a damaged row still answers as it did before deployments existed.
    package static func decodeList(_ text: String, modelId: String) -> [Deployment] {
        let list = (try? JSONDecoder().decode([Deployment].self, from: Data(text.utf8))) ?? []
        return list.isEmpty ? [.primary(modelId: modelId)] : Array(list.prefix(maxPerModel))
    }

    package static func encodeList(_ list: [Deployment]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(list), as: UTF8.self)) ?? "[]"
    }
}

/// How a model's route step chooses among its deployments (a model's `routing`).
public struct Routing: Sendable, Codable, Equatable {
    public enum Strategy: String, Sendable, Codable, CaseIterable {
        /// At random, in proportion to the weights.
        case weighted
        /// The fewest calls in flight on this instance.
        case leastBusy = "least-busy"
        /// The lowest moving average of time to first byte; one call in ten samples another, so a recovered deployment is noticed.
        case latency
        /// The most room left, from the deployment's own limits and the provider's rate-limit headers.
        case headroom
    }

    public var strategy: Strategy
    /// Calls of one conversation go to the deployment whose prompt cache is warm, while it is healthy and has room.
    public var promptCacheAffinity: Bool

    public init(strategy: Strategy = .weighted, promptCacheAffinity: Bool = true) {
        self.strategy = strategy
        self.promptCacheAffinity = promptCacheAffinity
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        strategy = try c.decodeIfPresent(Strategy.self, forKey: .strategy) ?? .weighted
        promptCacheAffinity = try c.decodeIfPresent(Bool.self, forKey: .promptCacheAffinity) ?? true
    }

    package static func decode(_ text: String) -> Routing {
        (try? JSONDecoder().decode(Routing.self, from: Data(text.utf8))) ?? Routing()
    }

    package func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
