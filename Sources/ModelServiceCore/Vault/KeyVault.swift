import Foundation
import Logging
import Synchronization

/// The key vault of one instance: the unlocked keyring, the stored keys, and what the resolver sees.
///
/// Writes go to the database (with their audit entry, in one transaction), then the in-memory view
/// is reloaded; other instances reload when the `api_keys` change counter moves. Every row is
/// trial-decrypted on reload (microseconds each), so undecryptable keys are known and reported.
public final class KeyVault: Sendable {
    public static let changeCounter = APIKeyStore.changeCounter

    package let database: Database
    public let resolver: KeyResolver
    package let validator: KeyValidator
    package let logger: Logger
    package let newVersionCost: MasterKey.Cost
    private let state = Mutex(State())

    private struct State {
        package var cipher: KeyCipher?
        package var undecryptable: Set<String> = []
        package var total = 0
        package var active = 0
    }

    /// Counts for `GET /api/health`; no key material.
    public struct Health: Sendable, Encodable {
        public var unlocked: Bool
        public var keyVersion: Int?
        public var keys: Int
        public var activeKeys: Int
        public var undecryptable: Int
    }

    public init(database: Database, resolver: KeyResolver, validator: KeyValidator, newVersionCost: MasterKey.Cost, logger: Logger) {
        self.database = database
        self.resolver = resolver
        self.validator = validator
        self.newVersionCost = newVersionCost
        self.logger = logger
    }

    /// Start-up: resolves the secrets (policy checks included), verifies the canary, derives the keyring once.
    @discardableResult
    public func unlock(environment: [String: String], dataDirectory: String) async throws -> VaultUnlock.Outcome {
        let secrets = try EncryptionSecretPolicy.resolve(environment: environment, dataDirectory: dataDirectory)
        secrets.logWarningIfGenerated(to: logger)
        let outcome = try await VaultUnlock.unlock(secrets: secrets, database: database, newVersionCost: newVersionCost, logger: logger)
        if let version = outcome.registeredVersion {
            logger.notice("registered master key version", metadata: ["vault.key_version": "\(version)"])
        }
        state.withLock { $0.cipher = KeyCipher(keyring: outcome.keyring) }
        return outcome
    }

    /// The cipher, or a 503 before start-up unlocked the vault.
    package func cipher() throws -> KeyCipher {
        guard let cipher = state.withLock({ $0.cipher }) else {
            throw ServiceError(.vaultLocked, "The key vault is not unlocked yet.")
        }
        return cipher
    }

    /// Reloads the in-memory view of every stored key; called at start, after local writes and on change.
    public func reload() async throws {
        let rows = try await database.run { try await APIKeyStore.all(on: $0) }
        let cipher = state.withLock { $0.cipher }
        var undecryptable: Set<String> = []
        var entries: [(owner: String, provider: ProviderKind, entry: KeyResolver.Entry)] = []
        for row in rows {
            if cipher.map({ (try? $0.decrypt(row.encryptedKey, binding: row.binding)) == nil }) ?? true {
                undecryptable.insert(row.id)
            }
            // A key its provider rejected (is_valid false) is skipped until re-validation restores it.
            if row.isActive, row.isValid != false {
                entries.append((row.owner, row.provider, .init(id: row.id, binding: row.binding, ciphertext: row.encryptedKey, name: row.keyName, maskedPrefix: row.keyPrefix)))
            }
        }
        resolver.install(cipher: cipher, entries: entries)
        let active = entries.count
        state.withLock {
            $0.undecryptable = undecryptable
            $0.total = rows.count
            $0.active = active
        }
        if !undecryptable.isEmpty {
            logger.warning("stored API keys cannot be decrypted with the loaded master keys", metadata: ["vault.undecryptable": "\(undecryptable.count)"])
        }
    }

    public var health: Health {
        state.withLock {
            Health(unlocked: $0.cipher != nil, keyVersion: $0.cipher?.keyring.current.version, keys: $0.total, activeKeys: $0.active,
                   undecryptable: $0.undecryptable.count)
        }
    }

    package func record(_ key: StoredAPIKey) -> APIKey {
        key.record(decryptable: !state.withLock { $0.undecryptable.contains(key.id) })
    }

    /// Reloads after a local write; a failure here must not turn a committed write into an error.
    package func reloadAfterWrite() async {
        do {
            try await reload()
        } catch {
            logger.warning("key vault reload after write failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }
}
