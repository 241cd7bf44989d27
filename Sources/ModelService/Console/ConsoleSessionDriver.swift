import Foundation
import HTTPTypes
import Hummingbird
import SQLKit
import ModelServiceCore

/// hummingbird-auth's session storage backed by the `console_sessions` table.
///
/// The key (which holds the session id of the cookie) is stored only as its SHA-256, so a copy of
/// the table opens no session; expired rows are never returned and are swept on each new sign-in.
struct ConsoleSessionDriver: PersistDriver {
    let database: Database

    func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let hash = TokenHashing.sha256Hex(of: key)
        let data = try Self.encode(value)
        let now = Clock.nowMillis()
        do {
            try await database.transaction { sql in
                try await sql.raw("DELETE FROM console_sessions WHERE expires_at IS NOT NULL AND expires_at < \(bind: now)").run()
                try await sql.insert(into: "console_sessions")
                    .columns("id_hash", "data", "expires_at", "created_at")
                    .values(SQLBind(hash), SQLBind(data), SQLBind(expires.map { now + Self.millis($0) }), SQLBind(now))
                    .run()
            }
        } catch let error where Database.isUniqueViolation(error) {
            throw PersistError.duplicate
        }
    }

    func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let hash = TokenHashing.sha256Hex(of: key)
        let data = try Self.encode(value)
        let now = Clock.nowMillis()
        let updated = try await database.transaction { sql in
            let existing = try await sql.raw("SELECT expires_at FROM console_sessions WHERE id_hash = \(bind: hash)").first()
            guard let existing else { return false }
            let keptExpiry = try existing.decode(column: "expires_at", as: Int64?.self)
            let expiry = expires.map { now + Self.millis($0) } ?? keptExpiry
            try await sql.raw("UPDATE console_sessions SET data = \(bind: data), expires_at = \(bind: expiry) WHERE id_hash = \(bind: hash)").run()
            return true
        }
        if !updated { try await create(key: key, value: value, expires: expires) }
    }

    func get<Object: Codable & Sendable>(key: String, as: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: Object.self)?.object
    }

    func getWithTTL<Object: Codable & Sendable>(key: String, as: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let hash = TokenHashing.sha256Hex(of: key)
        let now = Clock.nowMillis()
        let row = try await database.run { sql in
            try await sql.raw(
                "SELECT data, expires_at FROM console_sessions WHERE id_hash = \(bind: hash) AND (expires_at IS NULL OR expires_at > \(bind: now))"
            ).first()
        }
        guard let row else { return nil }
        let data = try row.decode(column: "data", as: String.self)
        guard let object = try? JSONDecoder().decode(Object.self, from: Data(data.utf8)) else { throw PersistError.invalidConversion }
        let ttl = try row.decode(column: "expires_at", as: Int64?.self).map { Duration.milliseconds($0 - now) }
        return (object, ttl)
    }

    func remove(key: String) async throws {
        let hash = TokenHashing.sha256Hex(of: key)
        try await database.run { sql in
            try await sql.raw("DELETE FROM console_sessions WHERE id_hash = \(bind: hash)").run()
        }
    }

    private static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    private static func millis(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
