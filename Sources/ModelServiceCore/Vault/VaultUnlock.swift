import Foundation
import Logging
import SQLKit

/// Turns the master secrets into a keyring at start, refusing a wrong secret before anything is served.
///
/// First start creates version 1 (salt + canary). A new `ENCRYPTION_SECRET` given together with the
/// old one as `ENCRYPTION_SECRET_PREVIOUS` registers the next version, so new writes use it at once
/// and `rotate-encryption-key` moves the rest. scrypt runs once per version checked, never per key.
public enum VaultUnlock {
    /// Lock key so two instances starting at once register one version, not two.
    package static let lockKey: Int64 = 0x6D73_0002

    public struct Outcome: Sendable {
        public let keyring: Keyring
        /// Set when this start registered a new master-key version.
        public let registeredVersion: Int?
        /// Versions still active in the database that the keyring cannot open (their keys are undecryptable).
        public let missingVersions: [Int]
    }

    public static func unlock(
        secrets: EncryptionSecrets,
        database: Database,
        newVersionCost: MasterKey.Cost,
        logger: Logger
    ) async throws -> Outcome {
        var versions = try await database.run { try await MasterKeyVersion.all(on: $0) }
        var registered: Int?
        if versions.isEmpty {
            registered = try await register(secret: secrets.current, cost: newVersionCost, database: database)
            versions = try await database.run { try await MasterKeyVersion.all(on: $0) }
        }
        let active = versions.filter(\.isActive)
        var current = firstUnlocked(by: secrets.current, in: active)
        var previous: MasterKey?
        if let secret = secrets.previous, secret != secrets.current {
            previous = firstUnlocked(by: secret, in: active.filter { $0.version != current?.version })
        }
        if current == nil {
            guard previous != nil else {
                throw refusal(for: secrets.current, variable: EncryptionSecretPolicy.currentVariable, versions: versions)
            }
            // A rotation begins: the new secret gets the next version.
            registered = try await register(secret: secrets.current, cost: newVersionCost, database: database)
            versions = try await database.run { try await MasterKeyVersion.all(on: $0) }
            current = firstUnlocked(by: secrets.current, in: versions.filter(\.isActive))
        }
        guard let currentKey = current else { throw VaultConfigurationError.canaryMismatch(variable: EncryptionSecretPolicy.currentVariable) }
        if let secret = secrets.previous, secret != secrets.current, previous == nil {
            let retired = versions.filter { !$0.isActive }
            if retired.contains(where: { $0.unlock(secret) != nil }) {
                logger.notice("ENCRYPTION_SECRET_PREVIOUS belongs to a retired key version and is no longer needed; remove it")
            } else {
                throw VaultConfigurationError.canaryMismatch(variable: EncryptionSecretPolicy.previousVariable)
            }
        }
        let keyring = try Keyring(current: currentKey, previous: previous.map { [$0] } ?? [])
        let missing = versions.filter { $0.isActive && keyring.key(forVersion: $0.version) == nil }.map(\.version)
        if !missing.isEmpty {
            logger.warning(
                "stored keys under an unloaded master-key version cannot be decrypted; set ENCRYPTION_SECRET_PREVIOUS and run rotate-encryption-key",
                metadata: ["vault.missing_versions": "\(missing)"]
            )
        }
        return Outcome(keyring: keyring, registeredVersion: registered, missingVersions: missing)
    }

    /// Newest active version first: during a rotation the new secret owns the highest version.
    private static func firstUnlocked(by secret: Secret, in versions: [MasterKeyVersion]) -> MasterKey? {
        for version in versions.sorted(by: { $0.version > $1.version }) {
            if let key = version.unlock(secret) { return key }
        }
        return nil
    }

    /// Adds the next version for `secret` unless one already opens with it (another instance won the race).
    private static func register(secret: Secret, cost: MasterKey.Cost, database: Database) async throws -> Int {
        try await database.exclusively(key: lockKey) { sql in
            let versions = try await MasterKeyVersion.all(on: sql)
            if let existing = versions.first(where: { $0.isActive && $0.unlock(secret) != nil }) {
                return existing.version
            }
            let next = (versions.map(\.version).max() ?? 0) + 1
            guard try await MasterKeyVersion.insert(version: next, secret: secret, cost: cost, on: sql) else {
                throw StorageError.unavailable("master key version \(next) was created concurrently; start again")
            }
            return next
        }
    }

    /// The start-up refusal: a retired secret gets its own explanation, anything else the canary message.
    private static func refusal(for secret: Secret, variable: String, versions: [MasterKeyVersion]) -> VaultConfigurationError {
        if versions.contains(where: { !$0.isActive && $0.unlock(secret) != nil }) {
            return .retiredSecret(variable: variable)
        }
        return .canaryMismatch(variable: variable)
    }
}
