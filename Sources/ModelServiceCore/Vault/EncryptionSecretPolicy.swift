/// Decides whether an `ENCRYPTION_SECRET` may protect real keys, and where it comes from.
///
/// The seed shipped a sample `.env` whose placeholder secret worked, so installations ran with a
/// public secret; this policy refuses short and well-known values at start instead.
public enum EncryptionSecretPolicy {
    public static let minimumLength = 32
    public static let currentVariable = "ENCRYPTION_SECRET"
    public static let previousVariable = "ENCRYPTION_SECRET_PREVIOUS"
    /// Name of the development secret file inside the data directory.
    public static let secretFileName = "encryption-secret"

    /// Values copied from samples and docs; compared case-insensitively.
    private static let knownPlaceholders: Set<String> = [
        "your-strong-encryption-secret-minimum-32-characters",
        "your-encryption-secret-at-least-32-characters-long",
        "encryption-secret-minimum-32-characters",
        "insecure-development-encryption-secret",
    ]

    /// Fragments that only a placeholder contains (a random 32+ character secret never does).
    private static let placeholderFragments = ["change-me", "changeme", "change_me", "replace-me", "replaceme", "placeholder"]

    /// Keyboard and counting runs: a secret that is a prefix of one of these, repeated, is a placeholder.
    private static let sequences = ["0123456789", "1234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop"]

    /// Refuses a secret that is too short or a placeholder; `variable` names it in the message.
    public static func validate(_ secret: Secret, variable: String = currentVariable) throws(VaultConfigurationError) {
        if secret.reveal.count < minimumLength {
            throw .secretTooShort(variable: variable)
        }
        if isPlaceholder(secret.reveal) {
            throw .placeholderSecret(variable: variable)
        }
    }

    /// `ENV=production` or `NODE_ENV=production` (the seed's variable, kept for existing deployments).
    public static func isProduction(environment: [String: String]) -> Bool {
        environment["ENV"]?.lowercased() == "production" || environment["NODE_ENV"]?.lowercased() == "production"
    }

    /// Resolves the current and previous secrets from the environment.
    ///
    /// An empty variable counts as unset (compose files often expand a missing value to `""`).
    /// Outside production a missing secret is read from, or created in, `<dataDirectory>/encryption-secret`
    /// so a first `serve` works; the result's `generated` flag tells the caller to log one warning.
    public static func resolve(
        environment: [String: String],
        dataDirectory: String
    ) throws(VaultConfigurationError) -> EncryptionSecrets {
        var previous: Secret?
        if let value = nonEmpty(environment[previousVariable]) {
            previous = Secret(value)
            try validate(Secret(value), variable: previousVariable)
        }
        if let value = nonEmpty(environment[currentVariable]) {
            let secret = Secret(value)
            try validate(secret, variable: currentVariable)
            return EncryptionSecrets(current: secret, previous: previous, source: .environment)
        }
        if isProduction(environment: environment) {
            throw .secretRequiredInProduction
        }
        let path = dataDirectory.hasSuffix("/") ? dataDirectory + secretFileName : dataDirectory + "/" + secretFileName
        let (secret, created) = try EncryptionSecretFile.readOrCreate(path: path)
        try validate(secret, variable: "\(currentVariable) (from \(path))")
        return EncryptionSecrets(current: secret, previous: previous, source: .file(path: path, generated: created))
    }

    package static func isPlaceholder(_ value: String) -> Bool {
        let lowered = value.lowercased()
        if knownPlaceholders.contains(lowered) { return true }
        if placeholderFragments.contains(where: { lowered.contains($0) }) { return true }
        if (lowered.contains("your-") || lowered.contains("your_")) && lowered.contains("secret") { return true }
        if hasShortPeriod(Array(lowered)) { return true }
        return sequences.contains { isPrefixOfRepetition(lowered, of: $0) }
    }

    /// True for strings made of one unit of up to 8 characters repeated (`aaaa…`, `abcabc…`,
    /// `passwordpassword…`); the single repeated character is the case that matters most.
    private static func hasShortPeriod(_ characters: [Character]) -> Bool {
        guard characters.count > 1 else { return true }
        for period in 1...min(8, characters.count - 1) {
            if (period..<characters.count).allSatisfy({ characters[$0] == characters[$0 - period] }) { return true }
        }
        return false
    }

    private static func isPrefixOfRepetition(_ value: String, of unit: String) -> Bool {
        let unitCharacters = Array(unit)
        return value.enumerated().allSatisfy { offset, character in character == unitCharacters[offset % unitCharacters.count] }
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
