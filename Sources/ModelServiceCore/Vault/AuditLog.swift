import Foundation
import SQLKit

/// The `audit_log` table: who changed which key, model or token, when, with what result. Never a key or secret.
///
/// Writes take the caller's transaction, so an entry exists exactly when its change committed, and
/// they are made by the stores and services (not the controllers), so the console is audited the
/// same as the REST API. Each row is chained to the one before by a hash (see ``AuditChain``).
/// Resolution on the request path is not audited per call (usage records count uses instead).
public enum AuditLog {
    public enum Action: String, Sendable, Codable, CaseIterable {
        case create, update, delete, validate, decrypt, use, importKey = "import", rotate, revoke
        case budgetThreshold = "budget_threshold", keyRejected = "key_rejected"
    }

    /// Who acted: a token, or the internal secret / a command line (no token id).
    public struct Actor: Sendable {
        public var tokenId: String?
        public var role: String
        /// The HTTP request that acted (`X-Request-Id`), tying the row to logs and traces.
        public var requestId: String?

        public init(tokenId: String?, role: String, requestId: String? = nil) {
            self.tokenId = tokenId
            self.role = role
            self.requestId = requestId
        }

        public init(_ principal: Principal, requestId: String? = nil) {
            self.init(tokenId: principal.tokenId, role: principal.role.rawValue, requestId: requestId)
        }

        public func with(requestId: String?) -> Actor {
            var actor = self
            actor.requestId = requestId
            return actor
        }

        public static let internalSecret = Actor(tokenId: nil, role: "internal")
        public static let commandLine = Actor(tokenId: nil, role: "cli")
        /// The service itself (the bootstrap admin token on first start).
        public static let system = Actor(tokenId: nil, role: "system")
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
        /// What the entry is about: `key`, `model`, `token`, or `client` (refused decrypts by source).
        public var subjectType: String?
        public var subjectId: String?
        /// How many events the row stands for (refused decrypts are aggregated per source and minute).
        public var count: Int
        /// Position in the hash chain; nil for rows written before the chain existed.
        public var seq: Int?
        public var hash: String?
        /// The HTTP request that acted (`X-Request-Id`).
        public var requestId: String?

        /// The stored content is read once, by the chain's record; the listing adds its chain position.
        package init(row: any SQLRow) throws {
            let record = try AuditChain.Record(row: row)
            id = record.id
            at = Clock.iso8601(millis: record.at)
            tokenId = record.tokenId
            actorRole = record.actorRole
            action = record.action
            keyId = record.keyId
            userId = record.userId
            provider = record.provider
            result = record.result
            detail = record.detail
            subjectType = record.subjectType
            subjectId = record.subjectId
            count = Int(record.count)
            seq = try row.decode(column: "seq", as: Int64?.self).map { Int($0) }
            hash = try row.decode(column: "row_hash", as: String?.self)
            requestId = record.requestId
        }
    }

    public struct Filter: Sendable {
        public var action: String?
        public var keyId: String?
        public var tokenId: String?
        /// The user whose key an entry is about.
        public var userId: String?
        public var from: Int64?
        public var to: Int64?
        public var limit: Int = 100
        public var offset: Int = 0

        package init(action: String? = nil, keyId: String? = nil, tokenId: String? = nil, userId: String? = nil, from: Int64? = nil, to: Int64? = nil, limit: Int = 100, offset: Int = 0) {
            self.action = action
            self.keyId = keyId
            self.tokenId = tokenId
            self.userId = userId
            self.from = from
            self.to = to
            self.limit = limit
            self.offset = offset
        }
    }

    /// What an entry is about: a key (a rejected new key has no id yet), a model, a token or a client.
    package struct Subject: Sendable {
        package var type = "key"
        package var id: String?
        package var keyId: String?
        package var userId: String?
        package var provider: ProviderKind?

        package init(keyId: String?, owner: String?, provider: ProviderKind?) {
            self.id = keyId
            self.keyId = keyId
            // A shared or team key belongs to no user (the team is in the entry's detail and subject of team changes).
            self.userId = owner?.hasPrefix("@") == true ? nil : owner
            self.provider = provider
        }

        package init(type: String, id: String?, userId: String? = nil, provider: ProviderKind? = nil) {
            self.type = type
            self.id = id
            self.userId = userId
            self.provider = provider
        }

        package static func model(_ model: Model) -> Subject { Subject(type: "model", id: model.id, provider: model.provider) }
        package static func token(id: String, userId: String?) -> Subject { Subject(type: "token", id: id, userId: userId) }

        package init(_ key: StoredAPIKey) {
            self.init(keyId: key.id, owner: key.owner, provider: key.provider)
        }
    }

    /// `detail` must never hold key material: callers pass fixed phrases, names and ids only.
    /// Call inside the change's transaction; the row is appended to the hash chain.
    package static func write(
        _ action: Action,
        actor: Actor,
        subject: Subject,
        result: String,
        detail: String? = nil,
        count: Int = 1,
        on sql: any SQLDatabase
    ) async throws {
        let record = AuditChain.Record(
            id: RandomIdentifier.uuid(), at: Clock.nowMillis(), tokenId: actor.tokenId, actorRole: actor.role, action: action.rawValue,
            keyId: subject.keyId, userId: subject.userId, provider: subject.provider?.rawValue, result: result, detail: detail,
            subjectType: subject.type, subjectId: subject.id, count: Int64(count), requestId: actor.requestId
        )
        try await AuditChain.append(record, on: sql)
    }

    package static func list(_ filter: Filter, on sql: any SQLDatabase) async throws -> [Entry] {
        var query = sql.select().column("*").from("audit_log")
        if let action = filter.action { query = query.where("action", .equal, SQLBind(action)) }
        if let keyId = filter.keyId { query = query.where("key_id", .equal, SQLBind(keyId)) }
        if let tokenId = filter.tokenId { query = query.where("token_id", .equal, SQLBind(tokenId)) }
        if let userId = filter.userId { query = query.where("target_user_id", .equal, SQLBind(userId)) }
        if let from = filter.from { query = query.where("at", .greaterThanOrEqual, SQLBind(from)) }
        if let to = filter.to { query = query.where("at", .lessThanOrEqual, SQLBind(to)) }
        return try await query.orderBy("at", .descending).orderBy("seq", .descending).orderBy("id").limit(filter.limit).offset(filter.offset).all().map(Entry.init(row:))
    }
}
