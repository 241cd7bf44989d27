import Foundation
import Synchronization

/// Where the key for an upstream call came from (recorded with each usage record).
public enum KeySource: String, Sendable, Codable {
    case user, shared, env, none
}

/// The key chosen for one call. `secret` is nil only for providers that need none (Ollama).
public struct ResolvedKey: Sendable {
    public var secret: Secret?
    public var source: KeySource
    /// The `api_keys` row used (nil for env and none), for usage counters.
    public var keyId: String?

    public init(secret: Secret?, source: KeySource, keyId: String?) {
        self.secret = secret
        self.source = source
        self.keyId = keyId
    }
}

/// No key could be found for a call: names the provider and the variable that would have served.
public struct KeyResolutionError: Error, Sendable, CustomStringConvertible {
    public var provider: ProviderKind
    public var environmentVariable: String?
    /// Keys exist but none could be decrypted (wrong or missing master secret): say so, never "no key".
    public var undecryptable: Bool = false

    public var description: String {
        if undecryptable {
            return "The stored \(provider.rawValue) key cannot be decrypted with the current ENCRYPTION_SECRET; an admin must fix the secret or replace the key."
        }
        let variable = environmentVariable.map { " or set \($0) on the server" } ?? ""
        return "No API key for provider \(provider.rawValue): add a key (PUT /api/users/me/keys/\(provider.rawValue))\(variable)."
    }
}

/// Picks the key for a call, from memory: the user's active key for the provider (newest first),
/// else an active shared key, else the environment variable named by the model (ADR priority).
///
/// The gateway calls this on every request, so it never touches the database: the active keys'
/// ciphertexts are held in memory (replaced by ``KeyVault`` when the `api_keys` counter moves) and
/// one is decrypted per call, which costs microseconds. Plaintext lives only in the returned value.
public final class KeyResolver: Sendable {
    /// One active stored key, still encrypted.
    struct Entry: Sendable {
        let id: String
        let binding: RecordBinding
        let ciphertext: String
    }

    private struct Slot: Hashable {
        let owner: String
        let provider: ProviderKind
    }

    private struct Snapshot: Sendable {
        var cipher: KeyCipher?
        var entries: [Slot: [Entry]] = [:]
    }

    let environment: [String: String]
    private let snapshot = Mutex(Snapshot())
    /// Keys a provider just rejected, skipped at once, before the database write and reload catch up.
    private let rejected = Mutex<Set<String>>([])

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// Replaces the in-memory keys; `entries` are newest first within each owner and provider.
    func install(cipher: KeyCipher?, entries: [(owner: String, provider: ProviderKind, entry: Entry)]) {
        var grouped: [Slot: [Entry]] = [:]
        for item in entries {
            grouped[Slot(owner: item.owner, provider: item.provider), default: []].append(item.entry)
        }
        snapshot.withLock { $0 = Snapshot(cipher: cipher, entries: grouped) }
    }

    /// Skips `keyId` from now on (``KeyHealth`` persists it as invalid, then calls ``readmit(_:)``).
    func skip(_ keyId: String) {
        _ = rejected.withLock { $0.insert(keyId) }
    }

    func readmit(_ keyId: String) {
        _ = rejected.withLock { $0.remove(keyId) }
    }

    public func resolve(userId: String?, provider: ProviderKind, model: Model) throws(KeyResolutionError) -> ResolvedKey {
        let skipped = rejected.withLock { $0 }
        let (cipher, userEntries, sharedEntries) = snapshot.withLock { state in
            (
                state.cipher,
                userId.flatMap { $0.hasPrefix("@") ? nil : state.entries[Slot(owner: $0, provider: provider)] } ?? [],
                state.entries[Slot(owner: RecordBinding.sharedOwner, provider: provider)] ?? []
            )
        }
        var undecryptable = false
        for (entries, source) in [(userEntries, KeySource.user), (sharedEntries, .shared)] {
            for entry in entries where !skipped.contains(entry.id) {
                if let cipher, let secret = try? cipher.decrypt(entry.ciphertext, binding: entry.binding) {
                    return ResolvedKey(secret: secret, source: source, keyId: entry.id)
                }
                undecryptable = true
            }
        }
        let variable = model.fallbackKeyEnvVar
        if let variable, let value = environment[variable], !value.isEmpty {
            return ResolvedKey(secret: Secret(value), source: .env, keyId: nil)
        }
        if provider == .ollama { return ResolvedKey(secret: nil, source: .none, keyId: nil) }
        throw KeyResolutionError(provider: provider, environmentVariable: variable, undecryptable: undecryptable)
    }
}
