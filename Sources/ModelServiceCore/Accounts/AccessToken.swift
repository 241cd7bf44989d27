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
    /// The models the token may call (names and `provider/*` patterns); nil: every active model.
    public var models: [String]?
    /// The token's own limits, over every model it calls.
    public var rateLimitPerMinute: Int?
    public var tokenLimitPerMinute: Int?
    /// The team the token calls for.
    public var teamId: String?

    package var expiresAtMillis: Int64?
    package var revokedAtMillis: Int64?
    /// Made once when tokens load, handed to every ``Principal`` of this token.
    package var restrictions: TokenRestrictions?

    package enum CodingKeys: String, CodingKey {
        case id, name, role, userId, tokenPrefix, expiresAt, revokedAt, lastUsedAt, createdAt, models, rateLimitPerMinute, tokenLimitPerMinute, teamId
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
        // Read from a row a person may have edited: an unreadable list allows nothing rather than everything.
        if let text = try row.decode(column: "models", as: String?.self) {
            let list = (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
            models = Array(list.prefix(ModelScope.maxEntries))
        }
        rateLimitPerMinute = try row.decode(column: "rate_limit_per_minute", as: Int?.self)
            .map { Saturating.clamp($0, to: 1...TokenRestrictions.maxRequestsPerMinute) }
        tokenLimitPerMinute = try row.decode(column: "token_limit_per_minute", as: Int?.self)
            .map { Saturating.clamp($0, to: 1...TokenRestrictions.maxTokensPerMinute) }
        teamId = try row.decode(column: "team_id", as: String?.self)
        restrictions = TokenRestrictions.make(
            scope: models.map(ModelScope.init), rateLimitPerMinute: rateLimitPerMinute, tokenLimitPerMinute: tokenLimitPerMinute)
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
