/// Which environment variables may serve as a provider key (a model's `apiKeyEnvVar`, `import-env-keys`).
///
/// A variable the service reads for itself must never be sent upstream as a Bearer token: an admin
/// once set `apiKeyEnvVar: "ENCRYPTION_SECRET"` and the master secret went to the provider.
/// Allowed: each provider's default, any name ending in `_API_KEY`, and the names listed
/// (comma-separated) in `PROVIDER_KEY_VARIABLES`; the service's own variables never, whatever the list says.
public struct ProviderKeyVariables: Sendable {
    /// Variables the service or its tests read for themselves.
    public static let reserved: Set<String> = [
        "ENCRYPTION_SECRET", "ENCRYPTION_SECRET_PREVIOUS", "INTERNAL_SECRET", "ADMIN_TOKEN", "DATABASE_URL", "TEST_DATABASE_URL",
        "METRICS_TOKEN", "SESSION_SECRET", "CONSOLE_SESSION_SECRET", "PROVIDER_KEY_VARIABLES", "PATH", "HOME",
        // Halves of the AWS key pair: read together as one credential (``EnvironmentCredential``), never sent alone.
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    ]

    public let listed: Set<String>

    public init(environment: [String: String]) {
        listed = Set(
            (environment["PROVIDER_KEY_VARIABLES"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        )
    }

    public func allows(_ name: String) -> Bool {
        guard !Self.reserved.contains(name) else { return false }
        let defaults = ProviderKind.allCases.compactMap(\.defaultAPIKeyEnvVar)
        return defaults.contains(name) || name.hasSuffix("_API_KEY") || listed.contains(name)
    }
}
