/// A start-up refusal about the master secret or key material.
///
/// Each `description` is the one line the operator sees before the process exits, so it says what
/// to fix; none ever contains a secret value.
public enum VaultConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `variable` is `ENCRYPTION_SECRET` or `ENCRYPTION_SECRET_PREVIOUS`.
    case secretTooShort(variable: String)
    case placeholderSecret(variable: String)
    case secretRequiredInProduction
    /// The development secret file could not be read or created.
    case secretFileFailure(path: String, reason: String)
    case invalidInstallationSalt(byteCount: Int)
    case invalidKeyVersion(Int)
    case duplicateKeyVersion(Int)
    case keyDerivationFailed
    case canaryMismatch(variable: String)
    /// The secret opens only a version that rotation retired: the operator started with the old secret.
    case retiredSecret(variable: String)

    public var description: String {
        switch self {
        case .secretTooShort(let variable):
            "\(variable) must be at least \(EncryptionSecretPolicy.minimumLength) characters long"
        case .placeholderSecret(let variable):
            "\(variable) is a placeholder value, not a secret; set it to a long random string (e.g. `openssl rand -base64 48`)"
        case .secretRequiredInProduction:
            "ENCRYPTION_SECRET is required in production"
        case .secretFileFailure(let path, let reason):
            "cannot use the development encryption secret file \(path): \(reason)"
        case .invalidInstallationSalt(let byteCount):
            "installation salt must be at least \(MasterKey.installationSaltByteCount) bytes (got \(byteCount))"
        case .invalidKeyVersion(let version):
            "master key version must be positive (got \(version))"
        case .duplicateKeyVersion(let version):
            "master key version \(version) is loaded twice"
        case .keyDerivationFailed:
            "master key derivation (scrypt) failed"
        case .canaryMismatch(let variable):
            "\(variable) does not match the key this database was encrypted with (canary check failed)"
        case .retiredSecret(let variable):
            "\(variable) is the old secret of a finished key rotation; start with the new ENCRYPTION_SECRET"
        }
    }
}
