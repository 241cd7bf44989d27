import Crypto
import Foundation
import SQLKit

/// An access token as listed: everything but the secret, which is shown once at creation and
/// stored only as a SHA-256 hash.
public struct AccessToken: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: AccessRole
    public var userId: String?
    /// The first characters of the token (`msk_ab12…`), to tell tokens apart in a list.
    public var tokenPrefix: String
    public var expiresAt: String?
    public var revokedAt: String?
    public var lastUsedAt: String?
    public var createdAt: String

    package var expiresAtMillis: Int64?
    package var revokedAtMillis: Int64?

    package enum CodingKeys: String, CodingKey {
        case id, name, role, userId, tokenPrefix, expiresAt, revokedAt, lastUsedAt, createdAt
    }

    package init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        name = try row.decode(column: "name", as: String.self)
        role = AccessRole(rawValue: try row.decode(column: "role", as: String.self)) ?? .user
        userId = try row.decode(column: "user_id", as: String?.self)
        tokenPrefix = try row.decode(column: "token_prefix", as: String.self)
        expiresAtMillis = try row.decode(column: "expires_at", as: Int64?.self)
        revokedAtMillis = try row.decode(column: "revoked_at", as: Int64?.self)
        expiresAt = expiresAtMillis.map(Clock.iso8601(millis:))
        revokedAt = revokedAtMillis.map(Clock.iso8601(millis:))
        lastUsedAt = try row.decode(column: "last_used_at", as: Int64?.self).map(Clock.iso8601(millis:))
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
    }

    /// Usable now: not revoked and not past its expiry.
    package func isUsable(atMillis now: Int64) -> Bool {
        revokedAtMillis == nil && (expiresAtMillis.map { $0 > now } ?? true)
    }
}

/// How token secrets are made and hashed.
public enum TokenSecrets {
    /// `msk_` + 32 random bytes in base64url: 256 bits, unguessable, safe in a header.
    public static func generate() -> Secret {
        Secret("msk_" + SymmetricKey(size: .bits256).withUnsafeBytes { Base64URL.encode($0) })
    }

    /// Tokens are stored and looked up by this hash only.
    public static func hash(_ token: Secret) -> String {
        TokenHashing.sha256Hex(token)
    }

    package static func displayPrefix(_ token: Secret) -> String {
        String(token.reveal.prefix(8)) + "…"
    }
}
