import Foundation

/// `import-env-keys` (seed 000 §4): copies provider keys found in the environment into shared keys.
///
/// Each variable becomes the shared key named `env:<VARIABLE>` for its provider, so a second run
/// finds it and imports nothing. Keys are not validated (the operator put them there), and only
/// their masked prefixes are ever reported.
public struct EnvironmentKeyImport: Sendable {
    public struct Line: Sendable {
        public var variable: String
        public var provider: ProviderKind
        public var keyPrefix: String
        /// False when the key was imported by an earlier run.
        public var imported: Bool
    }

    package let vault: KeyVault

    public init(vault: KeyVault) {
        self.vault = vault
    }

    /// The variables to look at: each provider's default, plus any other variable a model names that
    /// is a provider key variable (never one the service reads for itself, such as ENCRYPTION_SECRET).
    public static func candidates(
        models: [Model], keyVariables: ProviderKeyVariables = ProviderKeyVariables(environment: [:])
    ) -> [(variable: String, provider: ProviderKind)] {
        var seen = Set<String>()
        var result: [(String, ProviderKind)] = []
        let pairs = ProviderKind.allCases.compactMap { kind in kind.defaultAPIKeyEnvVar.map { ($0, kind) } }
            + models.compactMap { model in model.apiKeyEnvVar.map { ($0, model.provider) } }
        for (variable, provider) in pairs where keyVariables.allows(variable) && seen.insert("\(variable)/\(provider.rawValue)").inserted {
            result.append((variable, provider))
        }
        return result
    }

    public func run(environment: [String: String], models: [Model]) async throws -> [Line] {
        var lines: [Line] = []
        for (variable, provider) in Self.candidates(models: models, keyVariables: ProviderKeyVariables(environment: environment)) {
            guard let found = EnvironmentCredential.read(variable, provider: provider, environment: environment),
                !found.secret.reveal.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else { continue }
            let key = Secret(found.secret.reveal.trimmingCharacters(in: .whitespacesAndNewlines))
            let name = "env:\(variable)"
            let existing = try await vault.list(.init(owner: RecordBinding.sharedOwner, provider: provider)).first { $0.keyName == name }
            if let existing {
                lines.append(Line(variable: variable, provider: provider, keyPrefix: existing.keyPrefix, imported: false))
                continue
            }
            let new = KeyVault.NewKey(
                owner: RecordBinding.sharedOwner, provider: provider, keyName: name, apiKey: key,
                metadata: ["importedFrom": .string(variable)], validate: false
            )
            let created = try await vault.create(new, actor: .commandLine, action: .importKey)
            lines.append(Line(variable: variable, provider: provider, keyPrefix: created.keyPrefix, imported: true))
        }
        return lines
    }
}
