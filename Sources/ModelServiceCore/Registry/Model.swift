import Foundation
import SQLKit

/// A registered model: what the gateway calls, at what price, with which limits and settings.
/// Encoded in camelCase as the REST API and the console show it.
public struct Model: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var displayName: String?
    public var provider: ProviderKind
    public var modelId: String
    /// `chat` or `embedding`: which front door may call it.
    public var mode: ModelMode
    public var description: String?
    public var maxTokens: Int?
    public var supportsStreaming: Bool
    public var defaultTemperature: Double?
    public var rateLimitPerMinute: Int?
    public var rateLimitPerHour: Int?
    public var rateLimitPerDay: Int?
    /// Registry model names tried in order when this model's upstream fails or its circuit is open.
    public var fallbacks: [String]
    public var tokenLimitPerMinute: Int?
    public var tokenLimitPerDay: Int?
    /// What the provider charges; nil when nobody set prices (a call then records no cost, not $0).
    public var prices: ModelPrices?
    /// Calls under a cost budget may use the model while it has no prices (otherwise they are refused).
    public var allowUnpriced: Bool
    public var providerSettings: [String: JSONValue]
    public var apiKeyEnvVar: String?
    public var isActive: Bool
    public var isDefault: Bool
    public var metadata: [String: JSONValue]
    public var createdAt: String
    public var updatedAt: String
    /// The ways of calling this model (at least one); the route step picks one per call.
    public var deployments: [Deployment]
    public var routing: Routing
    /// Set on the copy of a model the pipeline calls through one of its deployments (``deployed(on:)``); nil in the registry.
    public var deployment: Deployment? {
        get { deploymentBox?.deployment }
        set { deploymentBox = newValue.map(DeploymentBox.init) }
    }
    /// Boxed: a model is copied many times per call, and a box is one reference to retain where the deployment's
    /// strings are ten (callgrind counted the difference).
    private var deploymentBox: DeploymentBox? = nil

    /// The environment variable holding the server-wide fallback key: the model's own, else the provider's.
    public var fallbackKeyEnvVar: String? { apiKeyEnvVar ?? provider.defaultAPIKeyEnvVar }

    /// Cost in USD of a call's tokens at the model's prices; nil when the model has none.
    public func cost(_ usage: Usage) -> Double? {
        prices?.cost(usage)
    }

    /// The input price per 1,000 tokens, as the API showed prices before they were per million.
    public var inputCostPer1kTokens: Double? { prices?.per1k.input }
    public var outputCostPer1kTokens: Double? { prices?.per1k.output }

    package enum CodingKeys: String, CodingKey {
        case id, name, displayName, provider, modelId, mode, description, maxTokens, supportsStreaming, defaultTemperature
        case rateLimitPerMinute, rateLimitPerHour, rateLimitPerDay, fallbacks, tokenLimitPerMinute, tokenLimitPerDay
        case inputCostPerMillion, outputCostPerMillion, cacheReadCostPerMillion, cacheWriteCostPerMillion, cacheWrite1hCostPerMillion
        case priceTiers, priced, allowUnpriced, inputCostPer1kTokens, outputCostPer1kTokens, providerSettings
        case apiKeyEnvVar, isActive, isDefault, metadata, createdAt, updatedAt, deployments, routing
    }

    /// Decodes what the REST API writes; a `mode` left out (JSON written before modes existed) is `chat`, no `fallbacks` is none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
        provider = try c.decode(ProviderKind.self, forKey: .provider)
        modelId = try c.decode(String.self, forKey: .modelId)
        mode = try c.decodeIfPresent(ModelMode.self, forKey: .mode) ?? .chat
        description = try c.decodeIfPresent(String.self, forKey: .description)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        supportsStreaming = try c.decode(Bool.self, forKey: .supportsStreaming)
        defaultTemperature = try c.decodeIfPresent(Double.self, forKey: .defaultTemperature)
        rateLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .rateLimitPerMinute)
        rateLimitPerHour = try c.decodeIfPresent(Int.self, forKey: .rateLimitPerHour)
        rateLimitPerDay = try c.decodeIfPresent(Int.self, forKey: .rateLimitPerDay)
        fallbacks = try c.decodeIfPresent([String].self, forKey: .fallbacks) ?? []
        tokenLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .tokenLimitPerMinute)
        tokenLimitPerDay = try c.decodeIfPresent(Int.self, forKey: .tokenLimitPerDay)
        prices = try ModelPrices.decodeFlat(c)
        allowUnpriced = try c.decodeIfPresent(Bool.self, forKey: .allowUnpriced) ?? false
        providerSettings = try c.decode([String: JSONValue].self, forKey: .providerSettings)
        apiKeyEnvVar = try c.decodeIfPresent(String.self, forKey: .apiKeyEnvVar)
        isActive = try c.decode(Bool.self, forKey: .isActive)
        isDefault = try c.decode(Bool.self, forKey: .isDefault)
        metadata = try c.decode([String: JSONValue].self, forKey: .metadata)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        updatedAt = try c.decode(String.self, forKey: .updatedAt)
        deployments = try c.decodeIfPresent([Deployment].self, forKey: .deployments) ?? []
        routing = try c.decodeIfPresent(Routing.self, forKey: .routing) ?? Routing()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(displayName, forKey: .displayName)
        try c.encode(provider, forKey: .provider)
        try c.encode(modelId, forKey: .modelId)
        try c.encode(mode, forKey: .mode)
        try c.encodeIfPresent(description, forKey: .description)
        try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try c.encode(supportsStreaming, forKey: .supportsStreaming)
        try c.encodeIfPresent(defaultTemperature, forKey: .defaultTemperature)
        try c.encodeIfPresent(rateLimitPerMinute, forKey: .rateLimitPerMinute)
        try c.encodeIfPresent(rateLimitPerHour, forKey: .rateLimitPerHour)
        try c.encodeIfPresent(rateLimitPerDay, forKey: .rateLimitPerDay)
        try c.encode(fallbacks, forKey: .fallbacks)
        try c.encodeIfPresent(tokenLimitPerMinute, forKey: .tokenLimitPerMinute)
        try c.encodeIfPresent(tokenLimitPerDay, forKey: .tokenLimitPerDay)
        try ModelPrices.encodeFlat(prices, into: &c)
        try c.encode(allowUnpriced, forKey: .allowUnpriced)
        try c.encode(providerSettings, forKey: .providerSettings)
        try c.encodeIfPresent(apiKeyEnvVar, forKey: .apiKeyEnvVar)
        try c.encode(isActive, forKey: .isActive)
        try c.encode(isDefault, forKey: .isDefault)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(deployments, forKey: .deployments)
        try c.encode(routing, forKey: .routing)
    }

    package init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        name = try row.decode(column: "name", as: String.self)
        displayName = try row.decode(column: "display_name", as: String?.self)
        let providerName = try row.decode(column: "provider", as: String.self)
        guard let provider = ProviderKind(name: providerName) else {
            throw StorageError.unavailable("model \(name) has an unknown provider '\(providerName)'")
        }
        self.provider = provider
        modelId = try row.decode(column: "model_id", as: String.self)
        mode = ModelMode(rawValue: try row.decode(column: "mode", as: String.self)) ?? .chat
        description = try row.decode(column: "description", as: String?.self)
        maxTokens = try row.decode(column: "max_tokens", as: Int?.self)
        supportsStreaming = try row.decode(column: "supports_streaming", as: Bool.self)
        defaultTemperature = try row.decode(column: "default_temperature", as: Double?.self)
        rateLimitPerMinute = try row.decode(column: "rate_limit_per_minute", as: Int?.self)
        rateLimitPerHour = try row.decode(column: "rate_limit_per_hour", as: Int?.self)
        rateLimitPerDay = try row.decode(column: "rate_limit_per_day", as: Int?.self)
        fallbacks = (try? JSONDecoder().decode([String].self, from: Data(try row.decode(column: "fallbacks", as: String.self).utf8))) ?? []
        tokenLimitPerMinute = try row.decode(column: "token_limit_per_minute", as: Int?.self)
        tokenLimitPerDay = try row.decode(column: "token_limit_per_day", as: Int?.self)
        prices = try ModelPrices(row: row)
        allowUnpriced = try row.decode(column: "allow_unpriced", as: Bool.self)
        providerSettings = Self.decodeObject(try row.decode(column: "provider_settings", as: String.self))
        apiKeyEnvVar = try row.decode(column: "api_key_env_var", as: String?.self)
        isActive = try row.decode(column: "is_active", as: Bool.self)
        isDefault = try row.decode(column: "is_default", as: Bool.self)
        metadata = Self.decodeObject(try row.decode(column: "metadata", as: String.self))
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        updatedAt = Clock.iso8601(millis: try row.decode(column: "updated_at", as: Int64.self))
        deployments = Deployment.decodeList(try row.decode(column: "deployments", as: String.self), modelId: id)
        routing = Routing.decode(try row.decode(column: "routing", as: String.self))
    }

    /// The model as called through `deployment`: its provider, endpoint, upstream model id and key
    /// variable where the deployment names its own, everything else (prices, limits, name) the model's.
    public func deployed(on deployment: Deployment) -> Model {
        var copy = self
        if let provider = deployment.provider, provider != self.provider {
            // Another provider: the model's endpoint and key variable were the old provider's.
            copy.provider = provider
            copy.providerSettings["baseURL"] = nil
            copy.apiKeyEnvVar = nil
        }
        if let modelId = deployment.modelId { copy.modelId = modelId }
        if let baseURL = deployment.baseURL { copy.providerSettings["baseURL"] = .string(baseURL) }
        if let variable = deployment.apiKeyEnvVar { copy.apiKeyEnvVar = variable }
        // Bedrock calls (and signs for) the deployment's region; other providers only show it.
        if copy.provider == .bedrock, let region = deployment.region, BedrockRegion.isValid(region) { copy.providerSettings["region"] = .string(region) }
        copy.deployment = deployment
        return copy
    }

    package static func decodeObject(_ text: String) -> [String: JSONValue] {
        (try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))) ?? [:]
    }

    package static func encodeObject(_ object: [String: JSONValue]) -> String {
        (try? String(decoding: JSONEncoder().encode(object), as: UTF8.self)) ?? "{}"
    }
}

/// A deployment behind one reference (``Model/deployment``); immutable, so sharing it between copies is safe.
private final class DeploymentBox: Sendable, Equatable {
    let deployment: Deployment

    init(_ deployment: Deployment) { self.deployment = deployment }

    static func == (lhs: DeploymentBox, rhs: DeploymentBox) -> Bool { lhs.deployment == rhs.deployment }
}
