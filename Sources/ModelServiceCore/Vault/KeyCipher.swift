import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encrypts and decrypts one stored API key with the keyring.
///
/// Per record: key = HKDF-SHA256(master, 16 random salt bytes, info), AES-256-GCM with a random
/// 12-byte nonce, associated data = the row binding. No KDF of real cost runs here, so a decrypt
/// costs microseconds; the scrypt cost was paid once when the master key was derived.
public struct KeyCipher: Sendable {
    /// HKDF info and associated-data domain label; a new format gets a new label.
    public static let info = "model-service/api-key/v1"

    public let keyring: Keyring

    public init(keyring: Keyring) {
        self.keyring = keyring
    }

    /// Seals `plaintext` for `binding` under the current master key; returns the stored text form.
    public func encrypt(_ plaintext: Secret, binding: RecordBinding) throws(VaultError) -> String {
        let master = keyring.current
        let salt = Self.randomBytes(count: StoredCiphertext.saltByteCount)
        let recordKey = Self.recordKey(master: master, salt: salt)
        do {
            let sealed = try AES.GCM.seal(
                Array(plaintext.reveal.utf8),
                using: recordKey,
                nonce: AES.GCM.Nonce(),
                authenticating: binding.associatedData(keyVersion: master.version)
            )
            let stored = StoredCiphertext(
                keyVersion: master.version,
                salt: salt,
                nonce: Array(sealed.nonce),
                sealed: Array(sealed.ciphertext) + Array(sealed.tag)
            )
            return stored.text
        } catch {
            throw .encryptionFailed
        }
    }

    /// Opens a stored value for `binding`, with whichever loaded master key its version names.
    public func decrypt(_ stored: String, binding: RecordBinding) throws(VaultError) -> Secret {
        try prepare(stored, binding: binding).open()
    }

    /// Parses a stored value and derives its record key, without decrypting: what the gateway holds
    /// per active key so that each call pays only the AES-GCM open (``Prepared/open()``).
    package func prepare(_ stored: String, binding: RecordBinding) throws(VaultError) -> Prepared {
        let parsed = try StoredCiphertext(parsing: stored)
        guard let master = keyring.key(forVersion: parsed.keyVersion) else {
            throw .unknownKeyVersion(parsed.keyVersion)
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: parsed.nonce),
                ciphertext: parsed.sealed.dropLast(StoredCiphertext.tagByteCount),
                tag: parsed.sealed.suffix(StoredCiphertext.tagByteCount)
            )
            return Prepared(
                box: box, key: Self.recordKey(master: master, salt: parsed.salt),
                associatedData: binding.associatedData(keyVersion: parsed.keyVersion))
        } catch {
            throw .malformedCiphertext
        }
    }

    /// One stored key ready to open: still encrypted (the plaintext exists only in what ``open()``
    /// returns), with its per-record key derived once instead of on every call.
    package struct Prepared: Sendable {
        package let box: AES.GCM.SealedBox
        package let key: SymmetricKey
        package let associatedData: [UInt8]

        package func open() throws(VaultError) -> Secret {
            let plaintext: Data
            do {
                plaintext = try AES.GCM.open(box, using: key, authenticating: associatedData)
            } catch {
                // Linux reports a bad tag as `underlyingCoreCryptoError`, not `.authenticationFailure`:
                // every failure to open means the same thing here.
                throw .doesNotAuthenticate
            }
            guard let text = String(validating: plaintext, as: UTF8.self) else { throw .malformedCiphertext }
            return Secret(text)
        }
    }

    /// Decrypts with any loaded key and seals again under the current one (one rotation step).
    public func reencrypt(_ stored: String, binding: RecordBinding) throws(VaultError) -> String {
        try encrypt(decrypt(stored, binding: binding), binding: binding)
    }

    /// True when the value is not under the current master key, so rotation still has to visit it.
    public func needsReencryption(_ stored: String) -> Bool {
        Self.keyVersion(of: stored) != keyring.current.version
    }

    /// The master-key version a stored value names, or `nil` if it is not a `v1` value.
    public static func keyVersion(of ciphertext: String) -> Int? {
        StoredCiphertext.keyVersion(of: ciphertext)
    }

    package static func recordKey(master: MasterKey, salt: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: master.key,
            salt: salt,
            info: Array(info.utf8),
            outputByteCount: 32
        )
    }

    /// One call to the crypto library's CSPRNG (a byte-at-a-time system generator costs a syscall per byte).
    package static func randomBytes(count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}
