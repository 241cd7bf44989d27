import Foundation

/// The writable fields of a model, as sent to `POST /api/models` and `PATCH /api/models/{id}`.
///
/// Decoding keeps "absent" apart from "null" (``FieldUpdate``) so a PATCH changes only what it
/// names and can clear a nullable field; ``validate(creating:)`` checks every bound and names the
/// field at fault.
public struct ModelFields: Sendable, Decodable {
    public var name: FieldUpdate<String> = .unchanged
    public var displayName: FieldUpdate<String> = .unchanged
    public var provider: FieldUpdate<String> = .unchanged
    public var modelId: FieldUpdate<String> = .unchanged
    public var mode: FieldUpdate<String> = .unchanged
    public var description: FieldUpdate<String> = .unchanged
    public var maxTokens: FieldUpdate<Int> = .unchanged
    public var supportsStreaming: FieldUpdate<Bool> = .unchanged
    public var defaultTemperature: FieldUpdate<Double> = .unchanged
    public var rateLimitPerMinute: FieldUpdate<Int> = .unchanged
    public var rateLimitPerHour: FieldUpdate<Int> = .unchanged
    public var rateLimitPerDay: FieldUpdate<Int> = .unchanged
    public var fallbacks: FieldUpdate<[String]> = .unchanged
    public var tokenLimitPerMinute: FieldUpdate<Int> = .unchanged
    public var tokenLimitPerDay: FieldUpdate<Int> = .unchanged
    public var inputCostPerMillion: FieldUpdate<Double> = .unchanged
    public var outputCostPerMillion: FieldUpdate<Double> = .unchanged
    public var cacheReadCostPerMillion: FieldUpdate<Double> = .unchanged
    public var cacheWriteCostPerMillion: FieldUpdate<Double> = .unchanged
    public var cacheWrite1hCostPerMillion: FieldUpdate<Double> = .unchanged
    public var priceTiers: FieldUpdate<[ModelPrices.Tier]> = .unchanged
    public var allowUnpriced: FieldUpdate<Bool> = .unchanged
    /// Prices per 1,000 tokens, as the API took them before prices were per million; still accepted.
    public var inputCostPer1kTokens: FieldUpdate<Double> = .unchanged
    public var outputCostPer1kTokens: FieldUpdate<Double> = .unchanged
    public var providerSettings: FieldUpdate<[String: JSONValue]> = .unchanged
    public var apiKeyEnvVar: FieldUpdate<String> = .unchanged
    public var isActive: FieldUpdate<Bool> = .unchanged
    public var isDefault: FieldUpdate<Bool> = .unchanged
    public var metadata: FieldUpdate<[String: JSONValue]> = .unchanged
    /// How calls choose among the model's deployments.
    public var routing: FieldUpdate<Routing> = .unchanged

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case name, displayName, provider, modelId, mode, description, maxTokens, supportsStreaming, defaultTemperature
        case rateLimitPerMinute, rateLimitPerHour, rateLimitPerDay, inputCostPer1kTokens, outputCostPer1kTokens
        case providerSettings, apiKeyEnvVar, isActive, isDefault, metadata
        case fallbacks, tokenLimitPerMinute, tokenLimitPerDay
        case inputCostPerMillion, outputCostPerMillion, cacheReadCostPerMillion, cacheWriteCostPerMillion, cacheWrite1hCostPerMillion
        case priceTiers, allowUnpriced, routing
    }

    public init() {}

    /// The JSON names of the fields this change sets (for the audit entry; never their values).
    package var namedFields: [String] {
        let updates: [(CodingKeys, Bool)] = [
            (.name, name.isSet), (.displayName, displayName.isSet), (.provider, provider.isSet), (.modelId, modelId.isSet),
            (.description, description.isSet), (.maxTokens, maxTokens.isSet), (.supportsStreaming, supportsStreaming.isSet),
            (.defaultTemperature, defaultTemperature.isSet), (.rateLimitPerMinute, rateLimitPerMinute.isSet),
            (.rateLimitPerHour, rateLimitPerHour.isSet), (.rateLimitPerDay, rateLimitPerDay.isSet),
            (.inputCostPer1kTokens, inputCostPer1kTokens.isSet), (.outputCostPer1kTokens, outputCostPer1kTokens.isSet),
            (.inputCostPerMillion, inputCostPerMillion.isSet), (.outputCostPerMillion, outputCostPerMillion.isSet),
            (.cacheReadCostPerMillion, cacheReadCostPerMillion.isSet), (.cacheWriteCostPerMillion, cacheWriteCostPerMillion.isSet),
            (.cacheWrite1hCostPerMillion, cacheWrite1hCostPerMillion.isSet), (.priceTiers, priceTiers.isSet),
            (.allowUnpriced, allowUnpriced.isSet), (.fallbacks, fallbacks.isSet), (.mode, mode.isSet),
            (.tokenLimitPerMinute, tokenLimitPerMinute.isSet), (.tokenLimitPerDay, tokenLimitPerDay.isSet),
            (.providerSettings, providerSettings.isSet), (.apiKeyEnvVar, apiKeyEnvVar.isSet), (.isActive, isActive.isSet),
            (.isDefault, isDefault.isSet), (.metadata, metadata.isSet), (.routing, routing.isSet),
        ]
        return updates.filter { $0.1 }.map { $0.0.stringValue }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try .decode(container, .name)
        displayName = try .decode(container, .displayName)
        provider = try .decode(container, .provider)
        modelId = try .decode(container, .modelId)
        mode = try .decode(container, .mode)
        description = try .decode(container, .description)
        maxTokens = try .decode(container, .maxTokens)
        supportsStreaming = try .decode(container, .supportsStreaming)
        defaultTemperature = try .decode(container, .defaultTemperature)
        rateLimitPerMinute = try .decode(container, .rateLimitPerMinute)
        rateLimitPerHour = try .decode(container, .rateLimitPerHour)
        rateLimitPerDay = try .decode(container, .rateLimitPerDay)
        inputCostPer1kTokens = try .decode(container, .inputCostPer1kTokens)
        outputCostPer1kTokens = try .decode(container, .outputCostPer1kTokens)
        providerSettings = try .decode(container, .providerSettings)
        apiKeyEnvVar = try .decode(container, .apiKeyEnvVar)
        isActive = try .decode(container, .isActive)
        isDefault = try .decode(container, .isDefault)
        metadata = try .decode(container, .metadata)
        fallbacks = try .decode(container, .fallbacks)
        tokenLimitPerMinute = try .decode(container, .tokenLimitPerMinute)
        tokenLimitPerDay = try .decode(container, .tokenLimitPerDay)
        inputCostPerMillion = try .decode(container, .inputCostPerMillion)
        outputCostPerMillion = try .decode(container, .outputCostPerMillion)
        cacheReadCostPerMillion = try .decode(container, .cacheReadCostPerMillion)
        cacheWriteCostPerMillion = try .decode(container, .cacheWriteCostPerMillion)
        cacheWrite1hCostPerMillion = try .decode(container, .cacheWrite1hCostPerMillion)
        priceTiers = try .decode(container, .priceTiers)
        allowUnpriced = try .decode(container, .allowUnpriced)
        routing = try .decode(container, .routing)
    }

    /// Checks bounds; for a create, also that the required fields are there and not null.
    /// `keyVariables` decides which `apiKeyEnvVar` names are provider key variables.
    public func validate(creating: Bool, keyVariables: ProviderKeyVariables = ProviderKeyVariables(environment: [:])) throws(ServiceError) {
        if creating {
            for (field, value) in [("name", name.value), ("provider", provider.value), ("modelId", modelId.value)] where value == nil {
                throw .invalidField(field, "is required")
            }
        } else {
            for (field, update) in [("name", name), ("provider", provider), ("modelId", modelId)] where update.isNull {
                throw .invalidField(field, "cannot be null")
            }
            for (field, update) in [("supportsStreaming", supportsStreaming), ("isActive", isActive), ("isDefault", isDefault)]
            where update.isNull {
                throw .invalidField(field, "cannot be null")
            }
            if mode.isNull { throw .invalidField("mode", "cannot be null") }
        }
        if let name = name.value { try Self.checkText("name", name, maxLength: 200) }
        if let modelId = modelId.value { try Self.checkText("modelId", modelId, maxLength: 200) }
        if let displayName = displayName.value { try Self.checkText("displayName", displayName, maxLength: 200) }
        try TextInput.check(description.value, field: "description", maxCharacters: TextInput.freeTextCharacters, allowLineBreaks: true)
        try TextInput.check(provider.value, field: "provider", maxCharacters: 50)
        if let provider = provider.value, ProviderKind(name: provider) == nil {
            throw .invalidField("provider", "unknown provider '\(provider)'; known providers: \(ProviderKind.knownList)")
        }
        if let mode = mode.value, ModelMode(rawValue: mode) == nil {
            throw .invalidField("mode", "must be one of \(ModelMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let maxTokens = maxTokens.value, !(1...100_000_000).contains(maxTokens) {
            throw .invalidField("maxTokens", "must be an integer from 1 to 100000000")
        }
        if let temperature = defaultTemperature.value, !(0...2).contains(temperature) {
            throw .invalidField("defaultTemperature", "must be between 0 and 2")
        }
        for (field, limit) in [("rateLimitPerMinute", rateLimitPerMinute), ("rateLimitPerHour", rateLimitPerHour), ("rateLimitPerDay", rateLimitPerDay)] {
            if let value = limit.value, !(1...1_000_000_000).contains(value) { throw .invalidField(field, "must be a positive integer") }
        }
        for (field, limit) in [("tokenLimitPerMinute", tokenLimitPerMinute), ("tokenLimitPerDay", tokenLimitPerDay)] {
            if let value = limit.value, !(1...1_000_000_000_000).contains(value) { throw .invalidField(field, "must be a positive integer") }
        }
        if let names = fallbacks.value {
            if names.count > FallbackChain.maxLength { throw .invalidField("fallbacks", "must name at most \(FallbackChain.maxLength) models") }
            for name in names { try Self.checkText("fallbacks", name, maxLength: 200) }
        }
        try validatePrices()
        if !creating, allowUnpriced.isNull { throw .invalidField("allowUnpriced", "cannot be null") }
        if !creating, routing.isNull { throw .invalidField("routing", "cannot be null") }
        if let variable = apiKeyEnvVar.value { try Self.checkKeyVariable(variable, field: "apiKeyEnvVar", keyVariables: keyVariables) }
        if let settings = providerSettings.value, let baseURL = settings["baseURL"] {
            guard let text = baseURL.stringValue else { throw .invalidField("providerSettings.baseURL", "must be a string") }
            try EndpointURL.check(text, field: "providerSettings.baseURL")
        }
        if let settings = providerSettings.value, let region = settings["region"] {
            // Bedrock puts the region in its endpoint's host name and signs for it.
            guard let text = region.stringValue else { throw .invalidField("providerSettings.region", "must be a string") }
            try BedrockRegion.check(text, field: "providerSettings.region")
        }
        for (field, object) in [("metadata", metadata.value), ("providerSettings", providerSettings.value)] {
            guard let object else { continue }
            // Every `GET /api/models` carries these to every caller: a size cap keeps that cheap.
            let size = (try? JSONEncoder().encode(object).count) ?? Int.max
            if size > Self.maxObjectBytes { throw .invalidField(field, "must be at most \(Self.maxObjectBytes) bytes of JSON") }
        }
    }

    /// Largest `metadata` and `providerSettings`, each, as encoded JSON.
    package static let maxObjectBytes = 64 * 1024

    /// A name of an environment variable that holds a provider key, never one the service reads for itself.
    package static func checkKeyVariable(_ variable: String, field: String, keyVariables: ProviderKeyVariables) throws(ServiceError) {
        let valid = !variable.isEmpty && variable.count <= 100
            && variable.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
            && !(variable.first?.isNumber ?? true)
        if !valid { throw .invalidField(field, "must be an environment variable name such as OPENAI_API_KEY") }
        if !keyVariables.allows(variable) {
            throw .invalidField(
                field,
                "must be a provider key variable (a provider default, a name ending in _API_KEY, or one listed in PROVIDER_KEY_VARIABLES), "
                    + "never one the service reads for itself")
        }
    }

    package static func checkText(_ field: String, _ value: String, maxLength: Int) throws(ServiceError) {
        if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .invalidField(field, "must not be empty") }
        try TextInput.check(value, field: field, maxCharacters: maxLength)
    }
}

/// One field of a partial update: left alone, set to a value, or (for nullable fields) cleared.
public enum FieldUpdate<Value: Sendable & Decodable>: Sendable {
    case unchanged
    case set(Value?)

    /// The new value when one is given (nil when unchanged or cleared).
    public var value: Value? {
        if case .set(let value) = self { return value }
        return nil
    }

    package var isSet: Bool {
        if case .set = self { return true }
        return false
    }

    package var isNull: Bool {
        if case .set(nil) = self { return true }
        return false
    }

    package static func decode<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> FieldUpdate {
        guard container.contains(key) else { return .unchanged }
        if try container.decodeNil(forKey: key) { return .set(nil) }
        return .set(try container.decode(Value.self, forKey: key))
    }
}
