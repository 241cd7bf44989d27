import Foundation
import SQLKit

/// One row of `encryption_keys`: what is needed to re-derive and check one master-key version.
///
/// The salt, scrypt cost and canary are not secret; the master secret never touches the database.
public struct MasterKeyVersion: Sendable {
    public static let active = "active"
    public static let retired = "retired"

    public let version: Int
    package let salt: [UInt8]
    package let cost: MasterKey.Cost
    package let canary: String
    public let status: String

    public var isActive: Bool { status == Self.active }

    /// Runs scrypt (tens to hundreds of milliseconds): call at start, never per request.
    package func derive(_ secret: Secret) throws(VaultConfigurationError) -> MasterKey {
        try MasterKey.derive(secret: secret, salt: salt, version: version, cost: cost)
    }

    /// The key for `secret` if it opens this version's canary.
    package func unlock(_ secret: Secret) -> MasterKey? {
        guard let key = try? derive(secret), Canary.verify(canary, with: key) else { return nil }
        return key
    }

    package init(row: any SQLRow) throws {
        version = Int(try row.decode(column: "version", as: Int64.self))
        let saltText = try row.decode(column: "kdf_salt", as: String.self)
        guard let salt = Base64URL.decode(Substring(saltText)) else {
            throw StorageError.unavailable("encryption_keys version \(version) has a malformed salt")
        }
        self.salt = salt
        let rounds = try row.decode(column: "kdf_rounds", as: Int64?.self)
        let blockSize = try row.decode(column: "kdf_block_size", as: Int64?.self)
        let parallelism = try row.decode(column: "kdf_parallelism", as: Int64?.self)
        if let rounds, let blockSize, let parallelism {
            cost = MasterKey.Cost(rounds: Int(rounds), blockSize: Int(blockSize), parallelism: Int(parallelism))
        } else {
            cost = .production
        }
        canary = try row.decode(column: "canary", as: String.self)
        status = try row.decode(column: "status", as: String.self)
    }

    // MARK: Storage

    package static func all(on sql: any SQLDatabase) async throws -> [MasterKeyVersion] {
        try await sql.raw("SELECT * FROM encryption_keys ORDER BY version DESC").all().map(MasterKeyVersion.init(row:))
    }

    /// Inserts a new active version for `secret`; false when another process took that version number first.
    package static func insert(version: Int, secret: Secret, cost: MasterKey.Cost, on sql: any SQLDatabase) async throws -> Bool {
        let salt = MasterKey.makeInstallationSalt()
        let key = try MasterKey.derive(secret: secret, salt: salt, version: version, cost: cost)
        let rows = try await sql.insert(into: "encryption_keys")
            .columns("version", "kdf_salt", "canary", "status", "created_at", "kdf_rounds", "kdf_block_size", "kdf_parallelism")
            .values(
                SQLBind(Int64(version)), SQLBind(Base64URL.encode(salt)), SQLBind(try Canary.make(with: key)),
                SQLBind(active), SQLBind(Clock.nowMillis()),
                SQLBind(Int64(cost.rounds)), SQLBind(Int64(cost.blockSize)), SQLBind(Int64(cost.parallelism))
            )
            .ignoringConflicts(with: ["version"])
            .returning("version")
            .all()
        return !rows.isEmpty
    }

    /// Marks a version retired once no stored key uses it; its secret is then no longer needed.
    package static func retire(version: Int, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            "UPDATE encryption_keys SET status = \(bind: retired), retired_at = \(bind: Clock.nowMillis()) WHERE version = \(bind: Int64(version))"
        ).run()
    }
}

extension MasterKey.Cost {
    /// The cost for new versions: `ENCRYPTION_KDF_COST=fast-for-tests` only in test suites, else production.
    /// Ignored when `ENV=production`, so a stray test variable cannot weaken a real installation.
    /// Existing versions always use the cost stored with them.
    public static func forNewVersions(environment: [String: String]) -> MasterKey.Cost {
        guard !EncryptionSecretPolicy.isProduction(environment: environment) else { return .production }
        return environment["ENCRYPTION_KDF_COST"] == "fast-for-tests" ? .fastForTests : .production
    }
}
