import Foundation
import Logging
import SQLKit
import Synchronization

/// Access tokens: created, listed, revoked in the database, and checked from memory.
///
/// Every request is authenticated, so checking a token must not touch the database: the usable
/// tokens are held in memory by hash and reloaded when the `tokens` change counter moves (a
/// revocation on another instance takes effect within the change feed's interval).
public final class AccessTokenStore: Sendable {
    package static let changeCounter = "tokens"

    private let database: Database
    private let logger: Logger
    /// The `ADMIN_TOKEN` from the environment, by hash: it is never stored, so changing the variable revokes the old one.
    private let environmentAdminHash: String?
    private let byHash = Mutex<[String: AccessToken]>([:])

    public init(database: Database, environmentAdminToken: Secret?, logger: Logger) {
        self.database = database
        self.environmentAdminHash = environmentAdminToken.map(TokenSecrets.hash)
        self.logger = logger
    }

    /// Checks a bearer token: nil for unknown, revoked or expired (callers answer the same 401 for all).
    public func authenticate(_ token: Secret) -> Principal? {
        let hash = TokenSecrets.hash(token)
        if let environmentAdminHash, SecretComparison.equalDigests(hash, environmentAdminHash) {
            return Principal(tokenId: "env:ADMIN_TOKEN", role: .admin, userId: nil)
        }
        guard let record = byHash.withLock({ $0[hash] }), record.isUsable(atMillis: Clock.nowMillis()) else {
            return nil
        }
        return Principal(tokenId: record.id, role: record.role, userId: record.userId, restrictions: record.restrictions, teamId: record.teamId)
    }

    /// The caller behind a console session, while the token it signed in with is still usable: a
    /// revoked or expired token ends its console sessions too.
    public func principal(tokenId: String) -> Principal? {
        if tokenId == "env:ADMIN_TOKEN" {
            return environmentAdminHash == nil ? nil : Principal(tokenId: tokenId, role: .admin, userId: nil)
        }
        let now = Clock.nowMillis()
        guard let record = byHash.withLock({ $0.values.first { $0.id == tokenId } }), record.isUsable(atMillis: now) else { return nil }
        return Principal(tokenId: record.id, role: record.role, userId: record.userId, restrictions: record.restrictions, teamId: record.teamId)
    }

    /// Loads the usable tokens into memory; called at start and on every change.
    public func reload() async throws {
        let now = Clock.nowMillis()
        let rows = try await database.run { sql in
            try await sql.raw("SELECT * FROM access_tokens WHERE revoked_at IS NULL").all()
        }
        var loaded: [String: AccessToken] = [:]
        for row in rows {
            let token = try AccessToken(row: row)
            guard token.isUsable(atMillis: now) else { continue }
            loaded[try row.decode(column: "token_hash", as: String.self)] = token
        }
        byHash.withLock { $0 = loaded }
    }

    /// What a token is limited to when it is made: the models it may call, and its own limits per minute.
    public struct Limits: Sendable {
        public var models: ModelScope?
        public var rateLimitPerMinute: Int?
        public var tokenLimitPerMinute: Int?
        /// The team the token calls for (one that exists; checked by the caller).
        public var teamId: String?

        public init(models: ModelScope? = nil, rateLimitPerMinute: Int? = nil, tokenLimitPerMinute: Int? = nil, teamId: String? = nil) {
            self.models = models
            self.rateLimitPerMinute = rateLimitPerMinute
            self.tokenLimitPerMinute = tokenLimitPerMinute
            self.teamId = teamId
        }

        /// How the audit line names them.
        var detail: String {
            [
                teamId.map { "team \($0)" }, models.map { "models \($0.entries.joined(separator: ", "))" }, rateLimitPerMinute.map { "\($0) requests/min" },
                tokenLimitPerMinute.map { "\($0) tokens/min" },
            ].compactMap { $0 }.joined(separator: "; ")
        }
    }

    /// Creates a token, audited as `actor`; the returned secret is the only time it is ever visible.
    public func create(
        role: AccessRole, userId: String?, name: String?, expiresAt: Date?, limits: Limits = Limits(), actor: AuditLog.Actor
    ) async throws -> (AccessToken, Secret) {
        let secret = TokenSecrets.generate()
        let id = RandomIdentifier.uuid()
        let now = Clock.nowMillis()
        let displayName = name ?? (role == .user ? "user \(userId ?? "")" : "\(role.rawValue) token")
        let row = try await database.transaction { sql in
            try await sql.insert(into: "access_tokens")
                .columns(
                    "id", "name", "role", "user_id", "token_hash", "token_prefix", "expires_at", "created_at", "models", "rate_limit_per_minute",
                    "token_limit_per_minute", "team_id"
                )
                .values(
                    SQLBind(id), SQLBind(displayName), SQLBind(role.rawValue), SQLBind(userId),
                    SQLBind(TokenSecrets.hash(secret)), SQLBind(TokenSecrets.displayPrefix(secret)),
                    SQLBind(expiresAt.map(Clock.millis(from:))), SQLBind(now), SQLBind(limits.models.map { String(decoding: (try? JSONEncoder().encode($0.entries)) ?? Data("[]".utf8), as: UTF8.self) }),
                    SQLBind(limits.rateLimitPerMinute), SQLBind(limits.tokenLimitPerMinute), SQLBind(limits.teamId)
                )
                .run()
            try await ChangeFeed.bump(Self.changeCounter, on: sql)
            let scope = limits.detail.isEmpty ? "" : " (\(limits.detail))"
            try await AuditLog.write(
                .create, actor: actor, subject: .token(id: id, userId: userId), result: "ok", detail: "\(role.rawValue) token \(displayName)\(scope)",
                on: sql)
            return try await sql.raw("SELECT * FROM access_tokens WHERE id = \(bind: id)").first()
        }
        try await reload()
        guard let row else { throw StorageError.unavailable("token vanished after insert") }
        return (try AccessToken(row: row), secret)
    }

    /// Every token, or those of the teams in `teamIds`, or those named `name` and not revoked.
    public func list(teamIds: [String]? = nil, liveNamed name: String? = nil) async throws -> [AccessToken] {
        try await database.run { sql in
            var query = sql.select().column(SQLLiteral.all).from("access_tokens")
            if let teamIds { query = query.where("team_id", .in, SQLBind.group(teamIds)) }
            if let name { query = query.where("name", .equal, SQLBind(name)).where("revoked_at", .is, SQLLiteral.null) }
            return try await query.orderBy("created_at").orderBy("id").all()
        }.map(AccessToken.init(row:))
    }

    /// Revokes a token, audited as `actor`; false when no such token exists. Revoking twice keeps the first time.
    public func revoke(id: String, actor: AuditLog.Actor) async throws -> Bool {
        let found = try await database.transaction { sql in
            guard let row = try await sql.raw("SELECT id, user_id FROM access_tokens WHERE id = \(bind: id)").first() else { return false }
            let userId = try row.decode(column: "user_id", as: String?.self)
            try await sql.raw(
                "UPDATE access_tokens SET revoked_at = \(bind: Clock.nowMillis()) WHERE id = \(bind: id) AND revoked_at IS NULL"
            ).run()
            try await ChangeFeed.bump(Self.changeCounter, on: sql)
            try await AuditLog.write(.revoke, actor: actor, subject: .token(id: id, userId: userId), result: "ok", on: sql)
            return true
        }
        if found { try await reload() }
        return found
    }

    /// On the first start without `ADMIN_TOKEN`: makes one admin token and returns its secret to be
    /// printed once. Claimed through `configs`, so of two instances starting at once only one makes it,
    /// and later starts make none.
    public func bootstrapAdminIfNeeded() async throws -> Secret? {
        guard environmentAdminHash == nil else { return nil }
        let claimed = try await database.transaction { sql in
            let rows = try await sql.insert(into: "configs")
                .columns("key", "value", "updated_at")
                .values(SQLBind("admin.bootstrapped"), SQLBind("true"), SQLBind(Clock.nowMillis()))
                .ignoringConflicts(with: ["key"])
                .returning("key")
                .all()
            return !rows.isEmpty
        }
        guard claimed else { return nil }
        let (_, secret) = try await create(role: .admin, userId: nil, name: "bootstrap admin", expiresAt: nil, actor: .system)
        return secret
    }
}
