import Foundation
import SQLKit

/// The SQL of the `api_keys` table, one statement per function, all with bound parameters.
///
/// Callers pass the `SQLDatabase` of their transaction so a change, its audit entry and the change
/// counter commit together.
package enum APIKeyStore {
    package static let changeCounter = "api_keys"

    package struct NewKey: Sendable {
        package var id: String
        package var owner: String
        package var provider: ProviderKind
        package var keyName: String
        package var endpoint: String?
        package var encryptedKey: String
        package var keyVersion: Int
        package var keyPrefix: String
        package var isActive: Bool
        package var isValid: Bool?
        package var metadata: [String: JSONValue]
    }

    package struct Filter: Sendable {
        package var owner: String?
        package var provider: ProviderKind?
        /// Hide shared and team keys (service tokens do not manage them).
        package var excludeShared = false
        /// Any of these owners (a user's own keys and those of the teams it administers); nil: no such condition.
        package var owners: [String]? = nil

        package init(owner: String? = nil, provider: ProviderKind? = nil, excludeShared: Bool = false, owners: [String]? = nil) {
            self.owner = owner
            self.provider = provider
            self.excludeShared = excludeShared
            self.owners = owners
        }
    }

    package static func insert(_ key: NewKey, on sql: any SQLDatabase) async throws {
        let now = Clock.nowMillis()
        try await sql.insert(into: "api_keys")
            .columns(
                "id", "user_id", "provider", "key_name", "endpoint", "encrypted_key", "key_version", "key_prefix", "usage_count", "is_active",
                "is_valid", "metadata", "created_at", "updated_at"
            )
            .values(
                SQLBind(key.id), SQLBind(key.owner), SQLBind(key.provider.rawValue), SQLBind(key.keyName), SQLBind(key.endpoint), SQLBind(key.encryptedKey),
                SQLBind(Int64(key.keyVersion)), SQLBind(key.keyPrefix), SQLBind(Int64(0)), SQLBind(key.isActive), SQLBind(key.isValid),
                SQLBind(Model.encodeObject(key.metadata)), SQLBind(now), SQLBind(now)
            )
            .run()
        try await ChangeFeed.bump(changeCounter, on: sql)
    }

    package static func find(id: String, on sql: any SQLDatabase) async throws -> StoredAPIKey? {
        try await sql.raw("SELECT * FROM api_keys WHERE id = \(bind: id)").first().map(StoredAPIKey.init(row:))
    }

    package static func find(owner: String, provider: ProviderKind, keyName: String, on sql: any SQLDatabase) async throws -> StoredAPIKey? {
        try await sql.raw(
            "SELECT * FROM api_keys WHERE user_id = \(bind: owner) AND provider = \(bind: provider.rawValue) AND key_name = \(bind: keyName)"
        ).first().map(StoredAPIKey.init(row:))
    }

    package static func list(_ filter: Filter, on sql: any SQLDatabase) async throws -> [StoredAPIKey] {
        var query = sql.select().column("*").from("api_keys")
        if let owner = filter.owner { query = query.where("user_id", .equal, SQLBind(owner)) }
        if let owners = filter.owners { query = query.where("user_id", .in, SQLBind.group(owners)) }
        if let provider = filter.provider { query = query.where("provider", .equal, SQLBind(provider.rawValue)) }
        // Shared and team keys (owners starting with `@`; user ids never do).
        if filter.excludeShared { query = query.where("user_id", .notLike, SQLBind("@%")) }
        return try await query.orderBy("created_at", .descending).orderBy("id").all().map(StoredAPIKey.init(row:))
    }

    package static func all(on sql: any SQLDatabase) async throws -> [StoredAPIKey] {
        try await sql.raw("SELECT * FROM api_keys ORDER BY created_at DESC, id").all().map(StoredAPIKey.init(row:))
    }

    /// Writes the changed columns; `encrypted` replaces the key (ciphertext, version, prefix) when set.
    package static func update(
        id: String,
        keyName: String?,
        isActive: Bool?,
        isValid: Bool??,
        encrypted: (text: String, version: Int, prefix: String)?,
        metadata: [String: JSONValue]?,
        on sql: any SQLDatabase
    ) async throws {
        var query = sql.update("api_keys").set("updated_at", to: SQLBind(Clock.nowMillis()))
        if let keyName { query = query.set("key_name", to: SQLBind(keyName)) }
        if let isActive { query = query.set("is_active", to: SQLBind(isActive)) }
        if let isValid {
            query = query.set("is_valid", to: SQLBind(isValid))
            // A rejection records when; anything else (valid or unknown again) clears it.
            if isValid == false {
                query = query.set("invalid_reason", to: SQLBind("the provider rejected the key on re-validation"))
                    .set("invalid_at", to: SQLBind(Clock.nowMillis()))
            } else {
                query = query.set("invalid_reason", to: SQLBind(String?.none)).set("invalid_at", to: SQLBind(Int64?.none))
            }
        }
        if let encrypted {
            query = query.set("encrypted_key", to: SQLBind(encrypted.text))
                .set("key_version", to: SQLBind(Int64(encrypted.version)))
                .set("key_prefix", to: SQLBind(encrypted.prefix))
        }
        if let metadata { query = query.set("metadata", to: SQLBind(Model.encodeObject(metadata))) }
        try await query.where("id", .equal, SQLBind(id)).run()
        try await ChangeFeed.bump(changeCounter, on: sql)
    }

    package static func delete(id: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM api_keys WHERE id = \(bind: id)").run()
        try await ChangeFeed.bump(changeCounter, on: sql)
    }

    /// Up to `limit` rows after `cursor` (by id) not yet under `version`: one rotation batch.
    package static func batchNotUnder(version: Int, after cursor: String, limit: Int, on sql: any SQLDatabase) async throws -> [StoredAPIKey] {
        try await sql.raw(
            """
            SELECT * FROM api_keys WHERE key_version <> \(bind: Int64(version)) AND id > \(bind: cursor) \
            ORDER BY id LIMIT \(bind: Int64(limit))
            """
        ).all().map(StoredAPIKey.init(row:))
    }

    /// Replaces a ciphertext only if it is still the one read (a concurrent edit wins); true when written.
    package static func replaceCiphertext(id: String, from old: String, to new: String, version: Int, on sql: any SQLDatabase) async throws -> Bool {
        let rows = try await sql.raw(
            """
            UPDATE api_keys SET encrypted_key = \(bind: new), key_version = \(bind: Int64(version)) \
            WHERE id = \(bind: id) AND encrypted_key = \(bind: old) RETURNING id
            """
        ).all()
        return !rows.isEmpty
    }

    /// How many rows each master-key version still protects.
    package static func countsByVersion(on sql: any SQLDatabase) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for row in try await sql.raw("SELECT key_version, COUNT(*) AS n FROM api_keys GROUP BY key_version").all() {
            counts[Int(try row.decode(column: "key_version", as: Int64.self))] = Int(try row.decode(column: "n", as: Int64.self))
        }
        return counts
    }
}
