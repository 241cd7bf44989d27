import Foundation
import SQLKit

/// A stored provider key as the API shows it: everything but the key, which appears only masked.
public struct APIKey: Sendable, Codable, Equatable {
    public static let statusOK = "ok"
    /// The row exists but the loaded master keys cannot open it: reported, never treated as "no key".
    public static let statusUndecryptable = "undecryptable"
    /// The provider rejected the key: resolution skips it until a re-validation succeeds.
    public static let statusInvalid = "invalid"

    public var id: String
    /// Nil for a shared key (usable by every user, managed by admins).
    public var userId: String?
    public var shared: Bool
    public var provider: ProviderKind
    public var keyName: String
    /// The endpoint this key may be sent to; null means the provider's configured base URL.
    public var endpoint: String?
    public var keyPrefix: String
    public var isActive: Bool
    /// Nil when the key was stored without a check (or the provider cannot check keys).
    public var isValid: Bool?
    public var status: String
    /// Why and when the key was marked invalid (a provider's 401/403 on a gateway call, or a failed re-validation).
    public var invalidReason: String?
    public var invalidAt: String?
    public var usageCount: Int
    public var lastUsedAt: String?
    public var metadata: [String: JSONValue]
    public var createdAt: String
    public var updatedAt: String
    /// Set for a key shared with one team: used for that team's calls of users without their own key.
    public var teamId: String? = nil

    package enum CodingKeys: String, CodingKey {
        case id, userId, shared, provider, keyName, endpoint, keyPrefix, isActive, isValid, status, invalidReason, invalidAt, usageCount, lastUsedAt, metadata, createdAt,
            updatedAt, teamId
    }

    /// Writes `null` for unknown values instead of omitting them, as the seed's records do.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(userId, forKey: .userId)
        try container.encode(shared, forKey: .shared)
        try container.encode(provider, forKey: .provider)
        try container.encode(keyName, forKey: .keyName)
        try container.encode(endpoint, forKey: .endpoint)
        try container.encode(keyPrefix, forKey: .keyPrefix)
        try container.encode(isActive, forKey: .isActive)
        try container.encode(isValid, forKey: .isValid)
        try container.encode(status, forKey: .status)
        try container.encode(invalidReason, forKey: .invalidReason)
        try container.encode(invalidAt, forKey: .invalidAt)
        try container.encode(usageCount, forKey: .usageCount)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(teamId, forKey: .teamId)
    }
}

/// One `api_keys` row as read from the database, ciphertext included; never leaves the vault.
package struct StoredAPIKey: Sendable {
    package let id: String
    /// `user_id` as stored: a user id, `RecordBinding.sharedOwner` or a team's owner (`@team:<id>`).
    package let owner: String
    package let providerName: String
    package let provider: ProviderKind
    package let keyName: String
    /// Nil: bound to the provider's configured base URL (every row stored before endpoints existed).
    package let endpoint: String?
    package let encryptedKey: String
    package let keyVersion: Int
    package let keyPrefix: String
    package let isActive: Bool
    package let isValid: Bool?
    package let usageCount: Int
    package let invalidReason: String?
    package let invalidAt: Int64?
    package let lastUsedAt: Int64?
    package let metadata: [String: JSONValue]
    package let createdAt: Int64
    package let updatedAt: Int64

    package var isShared: Bool { owner == RecordBinding.sharedOwner }
    /// The team the key is shared with; nil for a user's or the installation's key.
    package var teamId: String? { RecordBinding.teamId(ofOwner: owner) }

    /// The associated data the ciphertext is bound to, with the fields exactly as stored.
    package var binding: RecordBinding { RecordBinding(keyId: id, owner: owner, provider: providerName, endpoint: endpoint) }

    package init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        owner = try row.decode(column: "user_id", as: String.self)
        providerName = try row.decode(column: "provider", as: String.self)
        guard let provider = ProviderKind(name: providerName) else {
            throw StorageError.unavailable("api key \(id) has an unknown provider '\(providerName)'")
        }
        self.provider = provider
        keyName = try row.decode(column: "key_name", as: String.self)
        endpoint = try row.decode(column: "endpoint", as: String?.self)
        encryptedKey = try row.decode(column: "encrypted_key", as: String.self)
        keyVersion = Int(try row.decode(column: "key_version", as: Int64.self))
        keyPrefix = try row.decode(column: "key_prefix", as: String.self)
        isActive = try row.decode(column: "is_active", as: Bool.self)
        isValid = try row.decode(column: "is_valid", as: Bool?.self)
        usageCount = Int(try row.decode(column: "usage_count", as: Int64.self))
        invalidReason = try row.decode(column: "invalid_reason", as: String?.self)
        invalidAt = try row.decode(column: "invalid_at", as: Int64?.self)
        lastUsedAt = try row.decode(column: "last_used_at", as: Int64?.self)
        metadata = Model.decodeObject(try row.decode(column: "metadata", as: String.self))
        createdAt = try row.decode(column: "created_at", as: Int64.self)
        updatedAt = try row.decode(column: "updated_at", as: Int64.self)
    }

    package func record(decryptable: Bool) -> APIKey {
        APIKey(
            id: id,
            userId: owner.hasPrefix("@") ? nil : owner,
            shared: isShared,
            provider: provider,
            keyName: keyName,
            endpoint: endpoint,
            keyPrefix: keyPrefix,
            isActive: isActive,
            isValid: isValid,
            status: !decryptable ? APIKey.statusUndecryptable : isValid == false ? APIKey.statusInvalid : APIKey.statusOK,
            invalidReason: isValid == false ? invalidReason : nil,
            invalidAt: isValid == false ? invalidAt.map(Clock.iso8601(millis:)) : nil,
            usageCount: usageCount,
            lastUsedAt: lastUsedAt.map(Clock.iso8601(millis:)),
            metadata: metadata,
            createdAt: Clock.iso8601(millis: createdAt),
            updatedAt: Clock.iso8601(millis: updatedAt),
            teamId: teamId
        )
    }
}
