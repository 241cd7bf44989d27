/// Why a stored API key could not be decrypted.
///
/// Descriptions are deliberately generic (like `PSQLError`): they never name a secret, a key or
/// any part of the ciphertext, so the error can be logged or returned as-is.
public enum VaultError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stored text is not a `v1.<version>.<salt>.<nonce>.<ciphertext>` value of the right shape.
    case malformedCiphertext
    /// The value names a master-key version that the keyring does not hold (rotation finished, or a
    /// previous secret was not provided).
    case unknownKeyVersion(Int)
    /// AES-GCM rejected the value: it was altered, copied from another row, or the key is wrong.
    case doesNotAuthenticate
    /// Sealing failed; not expected with a valid key, kept so encryption never traps.
    case encryptionFailed

    public var description: String {
        switch self {
        case .malformedCiphertext:
            "stored API key is not a valid encrypted value"
        case .unknownKeyVersion(let version):
            "stored API key is encrypted with master key version \(version), which is not loaded"
        case .doesNotAuthenticate:
            "stored API key does not authenticate (altered, moved to another row, or wrong master key)"
        case .encryptionFailed:
            "API key encryption failed"
        }
    }
}
