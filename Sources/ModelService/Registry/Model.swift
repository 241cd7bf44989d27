import Foundation
import Hummingbird
import SQLKit

/// A registered model: what the gateway calls, at what price, with which limits and settings.
/// Encoded in camelCase as the REST API and the console show it.
public struct Model: Sendable, Codable, Equatable, ResponseEncodable {
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
    /// Registry model names tried in order when this model's upstream fails or its circuit is open.
    public var fallbacks: [String]
    public var tokenLimitPerMinute: Int?
    public var tokenLimitPerDay: Int?
    public var inputCostPer1kTokens: Double
    public var outputCostPer1kTokens: Double
    public var providerSettings: [String: JSONValue]
    public var apiKeyEnvVar: String?
    public var isActive: Bool
    public var isDefault: Bool
    public var metadata: [String: JSONValue]
    public var createdAt: String
    public var updatedAt: String

    /// The environment variable holding the server-wide fallback key: the model's own, else the provider's.
    public var fallbackKeyEnvVar: String? { apiKeyEnvVar ?? provider.defaultAPIKeyEnvVar }

    /// Cost in USD of a call with these token counts, from the model's list prices.
    public func cost(promptTokens: Int, completionTokens: Int) -> Double {
        (Double(promptTokens) * inputCostPer1kTokens + Double(completionTokens) * outputCostPer1kTokens) / 1000
    }

    init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        name = try row.decode(column: "name", as: String.self)
        displayName = try row.decode(column: "display_name", as: String?.self)
        let providerName = try row.decode(column: "provider", as: String.self)
        guard let provider = ProviderKind(name: providerName) else {
            throw StorageError.unavailable("model \(name) has an unknown provider '\(providerName)'")
        }
        self.provider = provider
        modelId = try row.decode(column: "model_id", as: String.self)
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
        inputCostPer1kTokens = try row.decode(column: "input_cost_per_1k_tokens", as: Double.self)
        outputCostPer1kTokens = try row.decode(column: "output_cost_per_1k_tokens", as: Double.self)
        providerSettings = Self.decodeObject(try row.decode(column: "provider_settings", as: String.self))
        apiKeyEnvVar = try row.decode(column: "api_key_env_var", as: String?.self)
        isActive = try row.decode(column: "is_active", as: Bool.self)
        isDefault = try row.decode(column: "is_default", as: Bool.self)
        metadata = Self.decodeObject(try row.decode(column: "metadata", as: String.self))
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        updatedAt = Clock.iso8601(millis: try row.decode(column: "updated_at", as: Int64.self))
    }

    static func decodeObject(_ text: String) -> [String: JSONValue] {
        (try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))) ?? [:]
    }

    static func encodeObject(_ object: [String: JSONValue]) -> String {
        (try? String(decoding: JSONEncoder().encode(object), as: UTF8.self)) ?? "{}"
    }
}
