import Foundation
import Synchronization

/// Where the key for an upstream call came from (recorded with each usage record).
public enum KeySource: String, Sendable, Codable {
    case user, team, shared, env, none
}

/// The key chosen for one call. `secret` is nil only for providers that need none (Ollama).
public struct ResolvedKey: Sendable {
    public var secret: Secret?
    public var source: KeySource
    /// The `api_keys` row used (nil for env and none), for usage counters.
    public var keyId: String?
    /// How a refusal names the key to the caller: name, masked prefix and owner, never the value.
    public var label: String?
    /// Taken from a deployment's key pool: a 429 on it cools this key down, not the deployment.
    public var pooled = false

    public init(secret: Secret?, source: KeySource, keyId: String?, label: String? = nil) {
        self.secret = secret
        self.source = source
        self.keyId = keyId
        self.label = label
    }
}

/// No key could be found for a call: names the provider and the variable that would have served,
/// or, for a model pointed at another endpoint, the model and that endpoint.
public struct KeyResolutionError: Error, Sendable, CustomStringConvertible {
    public var provider: ProviderKind
    public var environmentVariable: String?
    /// Keys exist but none could be decrypted (wrong or missing master secret): say so, never "no key".
    public var undecryptable: Bool = false
    /// Set when the call goes to an endpoint no usable key was stored for: (model name, normalized endpoint).
    public var unboundEndpoint: (model: String, endpoint: String)? = nil
    /// Set when the model names a variable that is not a provider key variable.
    public var refusedVariable: String? = nil
    /// The OpenAI-compatible server the call goes to (``CompatibleServer``), named in the message.
    public var server: String? = nil

    public var description: String {
        if let unboundEndpoint {
            return "The model '\(unboundEndpoint.model)' calls \(unboundEndpoint.endpoint), and no \(provider.rawValue) key is stored for that endpoint: "
                + "keys are sent only to the endpoint they were stored for. Store a key with \"endpoint\": \"\(unboundEndpoint.endpoint)\", "
                + "or set providerSettings.apiKeyRequired to false for a server that needs none."
        }
        if let refusedVariable {
            return "The model's apiKeyEnvVar '\(refusedVariable)' is not a provider key variable (names ending in _API_KEY, the provider defaults, "
                + "or those listed in PROVIDER_KEY_VARIABLES); an admin must change it."
        }
        if undecryptable {
            return "The stored \(provider.rawValue) key cannot be decrypted with the current ENCRYPTION_SECRET; an admin must fix the secret or replace the key."
        }
        let variable = environmentVariable.map { " or set \(EnvironmentCredential.describe($0, provider: provider)) on the server" } ?? ""
        if let server {
            return "No API key for the OpenAI-compatible server '\(server)': add a key "
                + "(PUT /api/users/me/keys/openai-compatible with \"server\": \"\(server)\")\(variable)."
        }
        return "No API key for provider \(provider.rawValue): add a key (PUT /api/users/me/keys/\(provider.rawValue))\(variable)."
    }
}

/// Picks the key for a call, from memory: the user's active key for the provider (newest first),
/// else a key shared with the call's team, else an active shared key, else the environment variable
/// named by the model (ADR priority).
///
/// A key goes only to the endpoint it belongs to: a stored key to the endpoint saved with it (the
/// provider's configured base URL when none was), an environment key to its provider's configured
/// base URL. A model re-pointed elsewhere (`providerSettings.baseURL`) gets only keys stored for
/// that endpoint, or none when it says `apiKeyRequired: false`; otherwise the call is refused.
///
/// The gateway calls this on every request, so it never touches the database: the active keys'
/// ciphertexts are held in memory (replaced by ``KeyVault`` when the `api_keys` counter moves), each
/// with its record key derived once, and one is decrypted (AES-GCM open) per call. Plaintext lives
/// only in the returned value.
public final class KeyResolver: Sendable {
    /// One active stored key, still encrypted.
    package struct Entry: Sendable {
        package let id: String
        package let binding: RecordBinding
        package let ciphertext: String
        /// The normalized endpoint this key may be sent to (filled in by ``install(cipher:entries:)``).
        package var endpoint: String = ""
        package var name: String = ""
        package var maskedPrefix: String = ""
        /// Parsed with its record key derived (filled in by ``install(cipher:entries:)``); nil when that failed.
        package var prepared: KeyCipher.Prepared?
    }

    private struct Slot: Hashable {
        package let owner: String
        package let provider: ProviderKind
    }

    private struct Snapshot: Sendable {
        package var entries: [Slot: [Entry]] = [:]
    }

    package let environment: [String: String]
    package let endpoints: UpstreamEndpoints
    package let keyVariables: ProviderKeyVariables
    /// Each provider's configured base URL, normalized: where its env key and endpoint-less keys belong.
    private let homes: [ProviderKind: String]
    private let snapshot = Mutex(Snapshot())
    /// Keys a provider just rejected, skipped at once, before the database write and reload catch up.
    private let rejected = Mutex<Set<String>>([])
    /// Pooled keys a provider answered 429 on, with when they may be used again (milliseconds since 1970).
    private let cooling = Mutex<[String: Int64]>([:])
    /// Spreads a pool's calls across its keys in turn.
    private let poolTurn = Atomic<Int>(0)
    /// Normalized forms of the base URLs calls go to (a handful), so a call does not parse its URL again.
    private let normalizedTargets = Mutex<[String: String]>([:])

    public init(environment: [String: String]) {
        self.environment = environment
        endpoints = UpstreamEndpoints(environment: environment)
        keyVariables = ProviderKeyVariables(environment: environment)
        let configured = UpstreamEndpoints(environment: environment)
        homes = Dictionary(uniqueKeysWithValues: ProviderKind.allCases.map { ($0, EndpointURL.normalized(configured.baseURL(for: $0))) })
    }

    /// The normalized endpoint a stored key of `provider` belongs to.
    package func home(_ provider: ProviderKind) -> String {
        homes[provider] ?? EndpointURL.normalized(provider.defaultBaseURL)
    }

    /// Replaces the in-memory keys; `entries` are newest first within each owner and provider.
    package func install(cipher: KeyCipher?, entries: [(owner: String, provider: ProviderKind, entry: Entry)]) {
        var grouped: [Slot: [Entry]] = [:]
        for item in entries {
            var entry = item.entry
            entry.endpoint = item.entry.binding.endpoint.map(EndpointURL.normalized) ?? home(item.provider)
            entry.prepared = try? cipher?.prepare(entry.ciphertext, binding: entry.binding)
            grouped[Slot(owner: item.owner, provider: item.provider), default: []].append(entry)
        }
        snapshot.withLock { $0 = Snapshot(entries: grouped) }
    }

    /// Skips `keyId` from now on (``KeyHealth`` persists it as invalid, then calls ``readmit(_:)``).
    package func skip(_ keyId: String) {
        _ = rejected.withLock { $0.insert(keyId) }
    }

    package func readmit(_ keyId: String) {
        _ = rejected.withLock { $0.remove(keyId) }
    }

    private func normalizedTarget(_ url: String) -> String {
        if let known = normalizedTargets.withLock({ $0[url] }) { return known }
        let normalized = EndpointURL.normalized(url)
        normalizedTargets.withLock { cache in
            if cache.count >= 1_000 { cache.removeAll() }  // models re-pointed many times: start over
            cache[url] = normalized
        }
        return normalized
    }

    /// Rests a pooled key the provider answered 429 on, for `millis`; the pool's other keys serve meanwhile.
    package func coolDown(_ keyId: String, millis: Int64, now: Int64 = Clock.nowMillis()) {
        cooling.withLock { cooling in
            if cooling.count >= 10_000 { cooling = cooling.filter { $0.value > now } }
            cooling[keyId] = Saturating.add(now, max(1_000, millis))
        }
    }

    /// The key for a call of `model` to `baseURL` (default: the model's effective base URL). A model called
    /// through a deployment that names its key source (a stored key, the shared pool, a variable) uses that.
    public func resolve(
        userId: String?, teamId: String? = nil, provider: ProviderKind, model: Model, baseURL: String? = nil
    ) throws(KeyResolutionError) -> ResolvedKey {
        let skipped = rejected.withLock { $0 }
        let target = normalizedTarget(baseURL ?? endpoints.baseURL(for: model))
        if let deployment = model.deployment, let key = try deploymentKey(deployment, provider: provider, model: model, target: target, skipped: skipped) {
            return key
        }
        // An OpenAI-compatible model's variable is its own server's (``CompatibleServer``), sent to no other provider.
        let atHome = provider == .openaiCompatible || target == home(provider)
        let (userEntries, teamEntries, sharedEntries) = snapshot.withLock { state in
            (
                userId.flatMap { $0.hasPrefix("@") ? nil : state.entries[Slot(owner: $0, provider: provider)] } ?? [],
                teamId.flatMap { state.entries[Slot(owner: RecordBinding.teamOwner($0), provider: provider)] } ?? [],
                state.entries[Slot(owner: RecordBinding.sharedOwner, provider: provider)] ?? []
            )
        }
        var undecryptable = false
        for (entries, source) in [(userEntries, KeySource.user), (teamEntries, .team), (sharedEntries, .shared)] {
            for entry in entries where entry.endpoint == target && !skipped.contains(entry.id) {
                if let secret = try? entry.prepared?.open() {
                    let owner = source == .shared ? "shared" : source == .team ? "team \(teamId ?? "")" : "user '\(entry.binding.owner)'"
                    let label = "'\(entry.name)' (\(entry.maskedPrefix), \(owner))"
                    return ResolvedKey(secret: secret, source: source, keyId: entry.id, label: label)
                }
                undecryptable = true
            }
        }
        let variable = model.fallbackKeyEnvVar
        if let variable, !allows(variable, provider: provider) {
            throw KeyResolutionError(provider: provider, environmentVariable: nil, refusedVariable: variable)
        }
        if atHome, let variable, let found = EnvironmentCredential.read(variable, provider: provider, environment: environment) {
            return ResolvedKey(secret: found.secret, source: .env, keyId: nil, label: "from the server's \(found.source) (\(KeyMasking.maskedPrefix(found.secret)))")
        }
        // A server that names no key variable needs none (a local vLLM): called without a key unless one is stored.
        if provider == .ollama || (provider == .openaiCompatible && variable == nil) || model.providerSettings["apiKeyRequired"]?.boolValue == false {
            return ResolvedKey(secret: nil, source: .none, keyId: nil)
        }
        if provider == .openaiCompatible {
            let server = CompatibleServer(model: model)?.name ?? target
            throw KeyResolutionError(provider: provider, environmentVariable: variable, undecryptable: undecryptable, server: server)
        }
        if !atHome, !undecryptable {
            throw KeyResolutionError(provider: provider, environmentVariable: nil, unboundEndpoint: (model.name, target))
        }
        throw KeyResolutionError(provider: provider, environmentVariable: variable, undecryptable: undecryptable)
    }

    /// A provider key variable, and for an OpenAI-compatible server never another provider's own (it would leave for this server).
    private func allows(_ variable: String, provider: ProviderKind) -> Bool {
        guard keyVariables.allows(variable) else { return false }
        return provider != .openaiCompatible || !ProviderKind.allCases.contains { $0.defaultAPIKeyEnvVar == variable }
    }

    /// The key a deployment names for itself; nil when it names none (the user → shared → environment order applies).
    private func deploymentKey(
        _ deployment: Deployment, provider: ProviderKind, model: Model, target: String, skipped: Set<String>
    ) throws(KeyResolutionError) -> ResolvedKey? {
        if let keyId = deployment.keyId {
            let entry = snapshot.withLock { $0.entries[Slot(owner: RecordBinding.sharedOwner, provider: provider)]?.first { $0.id == keyId } }
            guard let entry, !skipped.contains(keyId), let secret = try? entry.prepared?.open() else {
                throw KeyResolutionError(provider: provider, environmentVariable: nil, undecryptable: entry != nil && !skipped.contains(keyId))
            }
            guard entry.endpoint == target else { throw KeyResolutionError(provider: provider, environmentVariable: nil, unboundEndpoint: (model.name, target)) }
            return ResolvedKey(secret: secret, source: .shared, keyId: entry.id, label: "'\(entry.name)' (\(entry.maskedPrefix), shared)")
        }
        if deployment.keyPool == .shared {
            let entries = snapshot.withLock { $0.entries[Slot(owner: RecordBinding.sharedOwner, provider: provider)] ?? [] }
                .filter { $0.endpoint == target && !skipped.contains($0.id) && $0.prepared != nil }
            guard !entries.isEmpty else { return nil }
            let now = Clock.nowMillis()
            let rests = cooling.withLock { cooling in entries.map { cooling[$0.id] ?? 0 } }
            let ready = entries.indices.filter { rests[$0] <= now }
            // Every key resting: the one whose rest ends first.
            let candidates = ready.isEmpty ? [entries.indices.min { rests[$0] < rests[$1] } ?? 0] : ready
            let turn = poolTurn.wrappingAdd(1, ordering: .relaxed).oldValue
            let entry = entries[candidates[Int(UInt(bitPattern: turn) % UInt(candidates.count))]]
            guard let secret = try? entry.prepared?.open() else { return nil }
            var key = ResolvedKey(secret: secret, source: .shared, keyId: entry.id, label: "'\(entry.name)' (\(entry.maskedPrefix), shared pool)")
            key.pooled = true
            return key
        }
        if let variable = deployment.apiKeyEnvVar {
            // Named on the deployment by an admin: sent to this deployment's endpoint, wherever it is.
            guard allows(variable, provider: provider) else {
                throw KeyResolutionError(provider: provider, environmentVariable: nil, refusedVariable: variable)
            }
            guard let found = EnvironmentCredential.read(variable, provider: provider, environment: environment) else {
                throw KeyResolutionError(provider: provider, environmentVariable: variable)
            }
            return ResolvedKey(secret: found.secret, source: .env, keyId: nil, label: "from the server's \(found.source) (\(KeyMasking.maskedPrefix(found.secret)))")
        }
        return nil
    }
}
