/// What a non-admin token sees of a model: everything but where and with which server variable the
/// gateway calls it (`providerSettings` may hold a private base URL; `apiKeyEnvVar` names a server secret).
public struct PublicModel: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var displayName: String?
    public var provider: ProviderKind
    public var modelId: String
    public var description: String?
    public var maxTokens: Int?
    public var supportsStreaming: Bool
    public var defaultTemperature: Double?
    public var rateLimitPerMinute: Int?
    public var rateLimitPerHour: Int?
    public var rateLimitPerDay: Int?
    /// False when the model has no prices: its calls record no cost. Prices are per million tokens.
    public var priced: Bool
    public var inputCostPerMillion: Double?
    public var outputCostPerMillion: Double?
    public var cacheReadCostPerMillion: Double?
    public var cacheWriteCostPerMillion: Double?
    public var cacheWrite1hCostPerMillion: Double?
    public var priceTiers: [ModelPrices.Tier]
    public var inputCostPer1kTokens: Double?
    public var outputCostPer1kTokens: Double?
    public var isActive: Bool
    public var isDefault: Bool
    public var metadata: [String: JSONValue]
    public var createdAt: String
    public var updatedAt: String

    public init(_ model: Model) {
        id = model.id
        name = model.name
        displayName = model.displayName
        provider = model.provider
        modelId = model.modelId
        description = model.description
        maxTokens = model.maxTokens
        supportsStreaming = model.supportsStreaming
        defaultTemperature = model.defaultTemperature
        rateLimitPerMinute = model.rateLimitPerMinute
        rateLimitPerHour = model.rateLimitPerHour
        rateLimitPerDay = model.rateLimitPerDay
        priced = model.prices != nil
        inputCostPerMillion = model.prices?.rates.input
        outputCostPerMillion = model.prices?.rates.output
        cacheReadCostPerMillion = model.prices?.rates.cacheRead
        cacheWriteCostPerMillion = model.prices?.rates.cacheWrite
        cacheWrite1hCostPerMillion = model.prices?.rates.cacheWrite1h
        priceTiers = model.prices?.tiers ?? []
        inputCostPer1kTokens = model.inputCostPer1kTokens
        outputCostPer1kTokens = model.outputCostPer1kTokens
        isActive = model.isActive
        isDefault = model.isDefault
        metadata = model.metadata
        createdAt = model.createdAt
        updatedAt = model.updatedAt
    }
}

/// A model as the caller may see it: the full record for admins, ``PublicModel`` for everyone else.
public enum ModelView: Sendable, Encodable {
    case full(Model)
    case publicView(PublicModel)

    public init(_ model: Model, for principal: Principal) {
        self = principal.isAdmin ? .full(model) : .publicView(PublicModel(model))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .full(let model): try model.encode(to: encoder)
        case .publicView(let model): try model.encode(to: encoder)
        }
    }
}
