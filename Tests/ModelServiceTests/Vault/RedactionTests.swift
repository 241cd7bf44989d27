import Crypto
import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// Nothing that holds or guards a secret may print it, however it is printed.
@Suite("Redaction")
struct RedactionTests {
    @Test("MasterKey and Keyring never print the secret or the key bytes")
    func keysAreRedacted() throws {
        let key = try VaultFixtures.masterKey()
        let keyBytes = key.key.withUnsafeBytes { Array($0) }
        let forbidden = [
            VaultFixtures.secretA.reveal,
            Base64URL.encode(keyBytes),
            keyBytes.map { String($0, radix: 16) }.joined(),
            TokenHashing.sha256Hex(of: VaultFixtures.secretA.reveal),
        ]
        let keyring = try Keyring(current: key, previous: [VaultFixtures.masterKey(VaultFixtures.secretB, version: 2)])
        for rendering in VaultFixtures.renderings(key) + VaultFixtures.renderings(keyring) + VaultFixtures.renderings(KeyCipher(keyring: keyring)) {
            for secret in forbidden {
                #expect(!rendering.contains(secret))
            }
            #expect(!rendering.contains(VaultFixtures.secretB.reveal))
        }
        #expect(key.description.contains("<redacted>"))
        #expect(keyring.description.contains("<redacted>"))
    }

    @Test("Secret and resolved secrets never print the value")
    func secretIsRedacted() throws {
        let secret = VaultFixtures.secretA
        for rendering in VaultFixtures.renderings(secret) + VaultFixtures.renderings([secret]) {
            #expect(!rendering.contains(secret.reveal))
        }
        #expect("\(secret)" == "<redacted>")
        let resolved = try EncryptionSecretPolicy.resolve(
            environment: ["ENCRYPTION_SECRET": secret.reveal, "ENCRYPTION_SECRET_PREVIOUS": VaultFixtures.secretB.reveal],
            dataDirectory: "/nonexistent"
        )
        for rendering in VaultFixtures.renderings(resolved) {
            #expect(!rendering.contains(secret.reveal))
            #expect(!rendering.contains(VaultFixtures.secretB.reveal))
        }
    }

    @Test("errors name neither the secret nor the ciphertext")
    func errorsAreRedacted() throws {
        let weak = "your-own-long-random-secret-goes-right-here-ok"
        var errors: [any Error] = []
        do { try EncryptionSecretPolicy.validate(Secret(weak)) } catch { errors.append(error) }
        do { try EncryptionSecretPolicy.validate(Secret("short-secret")) } catch { errors.append(error) }
        #expect(errors.count == 2)
        for error in errors {
            for rendering in VaultFixtures.renderings(error) + ["\(error)", error.localizedDescription] {
                #expect(!rendering.contains(weak))
                #expect(!rendering.contains("short-secret"))
            }
        }

        let cipher = try VaultFixtures.cipher()
        let stored = try cipher.encrypt(Secret("sk-live-abcdef"), binding: VaultFixtures.binding)
        let parts = stored.split(separator: ".").map(String.init)
        var failures: [VaultError] = []
        for attempt in [stored.replacingLastCharacter(), String("v1.9" + stored.dropFirst(4)), String(stored.dropLast(3))] {
            do { _ = try cipher.decrypt(attempt, binding: VaultFixtures.binding) } catch { failures.append(error) }
        }
        do { _ = try cipher.decrypt(stored, binding: RecordBinding(keyId: "k", owner: "o", provider: "p")) } catch { failures.append(error) }
        #expect(failures.count == 4)
        for failure in failures {
            for rendering in VaultFixtures.renderings(failure) {
                for part in parts[2...] { #expect(!rendering.contains(part)) }
                #expect(!rendering.contains("sk-live"))
            }
        }
    }
}

extension String {
    fileprivate func replacingLastCharacter() -> String {
        String(dropLast()) + (last == "A" ? "B" : "A")
    }
}
