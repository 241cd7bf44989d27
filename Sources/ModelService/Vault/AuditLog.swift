import Foundation
import SQLKit

/// The `audit_log` table: who did what to which key, when, with what result. Never a key or secret.
///
/// Writes take the caller's transaction, so an entry exists exactly when its change committed.
/// Resolution on the request path is not audited per call (usage records count uses instead).
public enum AuditLog {
    public enum Action: String, Sendable, Codable, CaseIterable {
        case create, update, delete, validate, decrypt, use, importKey = "import", rotate
        case budgetThreshold = "budget_threshold", keyRejected = "key_rejected"
    }

    /// Who acted: a token, or the internal secret / a command line (no token id).
    public struct Actor: Sendable {
        public var tokenId: String?
        public var role: String

        public init(tokenId: String?, role: String) {
            self.tokenId = tokenId
            self.role = role
        }

        public init(_ principal: Principal) {
            self.init(tokenId: principal.tokenId, role: principal.role.rawValue)
        }

        public static let internalSecret = Actor(tokenId: nil, role: "internal")
        public static let commandLine = Actor(tokenId: nil, role: "cli")
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var id: String
        public var at: String
        public var tokenId: String?
        public var actorRole: String?
        public var action: String
        public var keyId: String?
        public var userId: String?
        public var provider: String?
        public var result: String
        public var detail: String?

        init(row: any SQLRow) throws {
            id = try row.decode(column: "id", as: String.self)
            at = Clock.iso8601(millis: try row.decode(column: "at", as: Int64.self))
            tokenId = try row.decode(column: "token_id", as: String?.self)
            actorRole = try row.decode(column: "actor_role", as: String?.self)
            action = try row.decode(column: "action", as: String.self)
            keyId = try row.decode(column: "key_id", as: String?.self)
            userId = try row.decode(column: "target_user_id", as: String?.self)
            provider = try row.decode(column: "provider", as: String?.self)
            result = try row.decode(column: "result", as: String.self)
            detail = try row.decode(column: "detail", as: String?.self)
        }
    }

    public struct Filter: Sendable {
        public var action: String?
        public var keyId: String?
        public var tokenId: String?
        public var from: Int64?
        public var to: Int64?
        public var limit: Int = 100
    }

    /// Which key an entry is about; a rejected new key has no id yet.
    struct Subject: Sendable {
        var keyId: String?
        var userId: String?
        var provider: ProviderKind?

        init(keyId: String?, owner: String?, provider: ProviderKind?) {
            self.keyId = keyId
            self.userId = owner == RecordBinding.sharedOwner ? nil : owner
            self.provider = provider
        }

        init(_ key: StoredAPIKey) {
            self.init(keyId: key.id, owner: key.owner, provider: key.provider)
        }
    }

    /// `detail` must never hold key material: callers pass fixed phrases and ids only.
    static func write(
        _ action: Action,
        actor: Actor,
        subject: Subject,
        result: String,
        detail: String? = nil,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.insert(into: "audit_log")
            .columns("id", "at", "token_id", "actor_role", "action", "key_id", "target_user_id", "provider", "result", "detail")
            .values(
                SQLBind(UUID().uuidString.lowercased()), SQLBind(Clock.nowMillis()), SQLBind(actor.tokenId), SQLBind(actor.role),
                SQLBind(action.rawValue), SQLBind(subject.keyId), SQLBind(subject.userId), SQLBind(subject.provider?.rawValue),
                SQLBind(result), SQLBind(detail)
            )
            .run()
    }

    static func list(_ filter: Filter, on sql: any SQLDatabase) async throws -> [Entry] {
        var query = sql.select().column("*").from("audit_log")
        if let action = filter.action { query = query.where("action", .equal, SQLBind(action)) }
        if let keyId = filter.keyId { query = query.where("key_id", .equal, SQLBind(keyId)) }
        if let tokenId = filter.tokenId { query = query.where("token_id", .equal, SQLBind(tokenId)) }
        if let from = filter.from { query = query.where("at", .greaterThanOrEqual, SQLBind(from)) }
        if let to = filter.to { query = query.where("at", .lessThanOrEqual, SQLBind(to)) }
        return try await query.orderBy("at", .descending).orderBy("id").limit(filter.limit).all().map(Entry.init(row:))
    }
}
