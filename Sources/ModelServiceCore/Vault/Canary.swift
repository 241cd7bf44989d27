/// A known value sealed under each master key, so a wrong secret is refused at start.
///
/// Without it, a mistyped `ENCRYPTION_SECRET` would start fine and fail on every decrypt later.
/// The lead stores one canary per key version (`encryption_keys`); it is the only value derived
/// from the key that is ever stored, and it reveals nothing a ciphertext does not.
public enum Canary {
    package static let plaintext = "model-service-canary-v1"
    package static let binding = RecordBinding(keyId: "canary", owner: "system", provider: "canary")

    /// A fresh canary for `key`, to store when the key version is first created.
    public static func make(with key: MasterKey) throws(VaultError) -> String {
        try KeyCipher(keyring: Keyring(only: key)).encrypt(Secret(plaintext), binding: binding)
    }

    /// True only if `stored` opens under `key` (version included) and holds the canary text.
    public static func verify(_ stored: String, with key: MasterKey) -> Bool {
        guard let opened = try? KeyCipher(keyring: Keyring(only: key)).decrypt(stored, binding: binding) else {
            return false
        }
        return opened.reveal == plaintext
    }

    /// Throws the start-up refusal when `stored` does not verify; `variable` names the secret at fault.
    public static func check(
        _ stored: String,
        with key: MasterKey,
        variable: String = EncryptionSecretPolicy.currentVariable
    ) throws(VaultConfigurationError) {
        guard verify(stored, with: key) else { throw .canaryMismatch(variable: variable) }
    }
}
