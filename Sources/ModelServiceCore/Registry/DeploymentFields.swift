import Foundation

/// The writable fields of a deployment, as sent to `POST /api/models/{id}/deployments` and `PATCH …/{deploymentId}`.
/// Absent fields are left alone; `null` clears a nullable one (it then follows the model again).
public struct DeploymentFields: Sendable, Decodable {
    public var provider: FieldUpdate<String> = .unchanged
    public var baseURL: FieldUpdate<String> = .unchanged
    public var modelId: FieldUpdate<String> = .unchanged
    public var keyId: FieldUpdate<String> = .unchanged
    public var keyPool: FieldUpdate<String> = .unchanged
    public var apiKeyEnvVar: FieldUpdate<String> = .unchanged
    public var weight: FieldUpdate<Int> = .unchanged
    public var region: FieldUpdate<String> = .unchanged
    public var rateLimitPerMinute: FieldUpdate<Int> = .unchanged
    public var tokenLimitPerMinute: FieldUpdate<Int> = .unchanged
    public var isActive: FieldUpdate<Bool> = .unchanged

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case provider, baseURL, modelId, keyId, keyPool, apiKeyEnvVar, weight, region, rateLimitPerMinute, tokenLimitPerMinute, isActive
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try .decode(c, .provider)
        baseURL = try .decode(c, .baseURL)
        modelId = try .decode(c, .modelId)
        keyId = try .decode(c, .keyId)
        keyPool = try .decode(c, .keyPool)
        apiKeyEnvVar = try .decode(c, .apiKeyEnvVar)
        weight = try .decode(c, .weight)
        region = try .decode(c, .region)
        rateLimitPerMinute = try .decode(c, .rateLimitPerMinute)
        tokenLimitPerMinute = try .decode(c, .tokenLimitPerMinute)
        isActive = try .decode(c, .isActive)
    }

    /// The JSON names of the fields this change sets (for the audit entry).
    package var namedFields: [String] {
        let updates: [(CodingKeys, Bool)] = [
            (.provider, provider.isSet), (.baseURL, baseURL.isSet), (.modelId, modelId.isSet), (.keyId, keyId.isSet),
            (.keyPool, keyPool.isSet), (.apiKeyEnvVar, apiKeyEnvVar.isSet), (.weight, weight.isSet), (.region, region.isSet),
            (.rateLimitPerMinute, rateLimitPerMinute.isSet), (.tokenLimitPerMinute, tokenLimitPerMinute.isSet), (.isActive, isActive.isSet),
        ]
        return updates.filter { $0.1 }.map { $0.0.stringValue }
    }

    /// `deployment` with these fields applied and every bound checked; a 400 names the field at fault.
    package func applied(to deployment: Deployment, keyVariables: ProviderKeyVariables) throws(ServiceError) -> Deployment {
        if weight.isNull { throw .invalidField("weight", "cannot be null") }
        if isActive.isNull { throw .invalidField("isActive", "cannot be null") }
        var result = deployment
        if provider.isSet {
            result.provider = nil
            if let name = provider.value {
                guard let kind = ProviderKind(name: name) else {
                    throw .invalidField("provider", "unknown provider '\(name.prefix(50))'; known providers: \(ProviderKind.knownList)")
                }
                result.provider = kind
            }
        }
        if baseURL.isSet {
            if let url = baseURL.value { try EndpointURL.check(url, field: "baseURL") }
            result.baseURL = baseURL.value
        }
        if modelId.isSet {
            if let id = modelId.value { try ModelFields.checkText("modelId", id, maxLength: 200) }
            result.modelId = modelId.value
        }
        if keyId.isSet {
            if let id = keyId.value { try ModelFields.checkText("keyId", id, maxLength: 100) }
            result.keyId = keyId.value
        }
        if keyPool.isSet {
            result.keyPool = nil
            if let pool = keyPool.value {
                guard let kind = Deployment.KeyPool(rawValue: pool) else { throw .invalidField("keyPool", "must be \"shared\" or null") }
                result.keyPool = kind
            }
        }
        if apiKeyEnvVar.isSet {
            if let variable = apiKeyEnvVar.value { try ModelFields.checkKeyVariable(variable, field: "apiKeyEnvVar", keyVariables: keyVariables) }
            result.apiKeyEnvVar = apiKeyEnvVar.value
        }
        if let weight = weight.value {
            guard (1...Deployment.maxWeight).contains(weight) else { throw .invalidField("weight", "must be an integer from 1 to \(Deployment.maxWeight)") }
            result.weight = weight
        }
        if region.isSet {
            if let region = region.value { try ModelFields.checkText("region", region, maxLength: 64) }
            result.region = region.value
        }
        for (field, update, limit) in [
            ("rateLimitPerMinute", rateLimitPerMinute, 1_000_000_000), ("tokenLimitPerMinute", tokenLimitPerMinute, 1_000_000_000_000),
        ] {
            if let value = update.value, !(1...limit).contains(value) { throw .invalidField(field, "must be a positive integer") }
        }
        if rateLimitPerMinute.isSet { result.rateLimitPerMinute = rateLimitPerMinute.value }
        if tokenLimitPerMinute.isSet { result.tokenLimitPerMinute = tokenLimitPerMinute.value }
        if let active = isActive.value { result.isActive = active }
        let sources = [result.keyId != nil, result.keyPool != nil, result.apiKeyEnvVar != nil].filter { $0 }.count
        if sources > 1 { throw .invalidField("keyId", "name one key source: keyId, keyPool or apiKeyEnvVar") }
        if result.provider == .openaiCompatible {
            // The server is the base URL; its key variable must be its own (``CompatibleServer``).
            guard result.baseURL != nil else { throw .invalidField("baseURL", "is required on an openai-compatible deployment: the server's base URL") }
            try CompatibleServer.check(settings: ["server": .string("deployment"), "baseURL": .string(result.baseURL ?? "")], apiKeyEnvVar: result.apiKeyEnvVar)
        }
        return result
    }
}
