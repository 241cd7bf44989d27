import Foundation

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

/// Picks the key for a call, from memory: the user's active key for the provider, else a shared
/// key, else the environment variable named by the model (ADR priority).
///
/// PLACEHOLDER until the vault lands: environment variables only.
public final class KeyResolver: Sendable {
    let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func resolve(userId: String?, provider: ProviderKind, model: Model) throws(KeyResolutionError) -> ResolvedKey {
        if provider == .ollama { return ResolvedKey(secret: nil, source: .none, keyId: nil) }
        let variable = model.fallbackKeyEnvVar
        if let variable, let value = environment[variable], !value.isEmpty {
            return ResolvedKey(secret: Secret(value), source: .env, keyId: nil)
        }
        throw KeyResolutionError(provider: provider, environmentVariable: variable)
    }
}
