import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite("KeyCipher")
struct KeyCipherTests {
    @Test("round trip", arguments: ["", "sk", String(repeating: "k", count: 4096), "clé-🔑-ключ-鍵-\u{301}e"])
    func roundTrip(plaintext: String) throws {
        let cipher = try VaultFixtures.cipher()
        let stored = try cipher.encrypt(Secret(plaintext), binding: VaultFixtures.binding)
        #expect(try cipher.decrypt(stored, binding: VaultFixtures.binding).reveal == plaintext)
        #expect(!stored.contains(plaintext) || plaintext.count < 3)
    }

    @Test("stored format is v1.<version>.<salt>.<nonce>.<sealed> in unpadded base64url")
    func storedFormat() throws {
        let stored = try VaultFixtures.cipher(version: 7).encrypt(Secret("sk-abc"), binding: VaultFixtures.binding)
        let parts = stored.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 5)
        #expect(parts[0] == "v1")
        #expect(parts[1] == "7")
        #expect(parts[2].count == 22)
        #expect(parts[3].count == 16)
        #expect(Base64URL.decode(parts[4])?.count == 6 + 16)
        #expect(!stored.contains("=") && !stored.contains("+") && !stored.contains("/"))
    }

    @Test("two encryptions of one key differ in salt, nonce and ciphertext")
    func encryptionsAreUnique() throws {
        let cipher = try VaultFixtures.cipher()
        let first = try cipher.encrypt(Secret("sk-same"), binding: VaultFixtures.binding).split(separator: ".")
        let second = try cipher.encrypt(Secret("sk-same"), binding: VaultFixtures.binding).split(separator: ".")
        #expect(first[2] != second[2])
        #expect(first[3] != second[3])
        #expect(first[4] != second[4])
    }

    @Test("every single-character substitution and every truncation is rejected")
    func tamperingIsRejected() throws {
        // Two loaded versions, so a version digit changed to the other one reaches AES-GCM.
        let v1 = try VaultFixtures.masterKey(version: 1)
        let v2 = try VaultFixtures.masterKey(VaultFixtures.secretB, version: 2)
        let cipher = KeyCipher(keyring: try Keyring(current: v2, previous: [v1]))
        let stored = try cipher.encrypt(Secret("sk-proj-abcdefghijklmnop"), binding: VaultFixtures.binding)
        let original = Array(stored)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var attempts = 0
        var accepted: [String] = []
        for position in original.indices {
            for replacement in alphabet where replacement != original[position] {
                var altered = original
                altered[position] = replacement
                attempts += 1
                if (try? cipher.decrypt(String(altered), binding: VaultFixtures.binding)) != nil {
                    accepted.append("position \(position) → \(replacement)")
                }
            }
        }
        for length in 0..<original.count {
            attempts += 1
            if (try? cipher.decrypt(String(original.prefix(length)), binding: VaultFixtures.binding)) != nil {
                accepted.append("truncated to \(length)")
            }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.prefix(5))")
        // Every position tried with every other base64url character (all 64 at the four dots).
        #expect(attempts == original.reduce(0) { $0 + (alphabet.contains($1) ? 63 : 64) } + original.count)
        #expect(try cipher.decrypt(stored, binding: VaultFixtures.binding).reveal == "sk-proj-abcdefghijklmnop")
    }

    @Test("malformed values give .malformedCiphertext", arguments: [
        "", "v1", "v1.1", "v1.1.a.b", "v2.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.01.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.+1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.1.AAAAAAAAAAAAAAAAAAAAAA==.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.1.AAAAAAAAAAAAAAAAAAAAAB.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "v1.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAA",
        "v1.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.",
    ])
    func malformed(text: String) throws {
        #expect(throws: VaultError.malformedCiphertext) {
            try VaultFixtures.cipher().decrypt(text, binding: VaultFixtures.binding)
        }
    }

    @Test("a ciphertext moved to another row does not authenticate", arguments: [
        RecordBinding(keyId: "key-2", owner: "user-42", provider: "openai"),
        RecordBinding(keyId: "key-1", owner: "user-43", provider: "openai"),
        RecordBinding(keyId: "key-1", owner: RecordBinding.sharedOwner, provider: "openai"),
        RecordBinding(keyId: "key-1", owner: "user-42", provider: "anthropic"),
        RecordBinding(keyId: "key-1user-42", owner: "", provider: "openai"),
    ])
    func bindingIsAuthenticated(other: RecordBinding) throws {
        let cipher = try VaultFixtures.cipher()
        let stored = try cipher.encrypt(Secret("sk-team-key"), binding: VaultFixtures.binding)
        #expect(throws: VaultError.doesNotAuthenticate) { try cipher.decrypt(stored, binding: other) }
    }

    @Test("a different master secret with the same salt fails decryption and the canary")
    func wrongMasterSecret() throws {
        let right = try VaultFixtures.masterKey(VaultFixtures.secretA)
        let wrong = try VaultFixtures.masterKey(VaultFixtures.secretB)
        let stored = try KeyCipher(keyring: Keyring(only: right)).encrypt(Secret("sk-x"), binding: VaultFixtures.binding)
        #expect(throws: VaultError.doesNotAuthenticate) {
            try KeyCipher(keyring: Keyring(only: wrong)).decrypt(stored, binding: VaultFixtures.binding)
        }
        let canary = try Canary.make(with: right)
        #expect(Canary.verify(canary, with: right))
        #expect(!Canary.verify(canary, with: wrong))
        #expect(throws: VaultConfigurationError.canaryMismatch(variable: "ENCRYPTION_SECRET")) { try Canary.check(canary, with: wrong) }
        #expect(
            VaultConfigurationError.canaryMismatch(variable: "ENCRYPTION_SECRET").description
                == "ENCRYPTION_SECRET does not match the key this database was encrypted with (canary check failed)"
        )
    }

    @Test("the canary is bound to its key version and to its own row")
    func canaryBinding() throws {
        let v1 = try VaultFixtures.masterKey(version: 1)
        let sameBytesV2 = MasterKey(version: 2, key: v1.key)
        let canary = try Canary.make(with: v1)
        #expect(!Canary.verify(canary, with: sameBytesV2))
        let other = try KeyCipher(keyring: Keyring(only: v1)).encrypt(Secret("model-service-canary-v1"), binding: VaultFixtures.binding)
        #expect(!Canary.verify(other, with: v1))
        #expect(!Canary.verify("not a canary", with: v1))
    }

    @Test("keyring: current v2 plus previous v1 opens both, seals under v2")
    func keyringRotation() throws {
        let v1 = try VaultFixtures.masterKey(VaultFixtures.secretA, version: 1)
        let v2 = try VaultFixtures.masterKey(VaultFixtures.secretB, version: 2)
        let old = try KeyCipher(keyring: Keyring(only: v1)).encrypt(Secret("sk-old"), binding: VaultFixtures.binding)
        let rotating = KeyCipher(keyring: try Keyring(current: v2, previous: [v1]))
        let new = try rotating.encrypt(Secret("sk-new"), binding: VaultFixtures.binding)

        #expect(KeyCipher.keyVersion(of: old) == 1)
        #expect(KeyCipher.keyVersion(of: new) == 2)
        #expect(KeyCipher.keyVersion(of: "garbage") == nil)
        #expect(KeyCipher.keyVersion(of: "v1.0.x.y.z") == nil)
        #expect(try rotating.decrypt(old, binding: VaultFixtures.binding).reveal == "sk-old")
        #expect(try rotating.decrypt(new, binding: VaultFixtures.binding).reveal == "sk-new")
        #expect(rotating.needsReencryption(old))
        #expect(!rotating.needsReencryption(new))

        let moved = try rotating.reencrypt(old, binding: VaultFixtures.binding)
        #expect(KeyCipher.keyVersion(of: moved) == 2)
        #expect(try rotating.decrypt(moved, binding: VaultFixtures.binding).reveal == "sk-old")

        let afterRotation = KeyCipher(keyring: Keyring(only: v2))
        #expect(throws: VaultError.unknownKeyVersion(1)) { try afterRotation.decrypt(old, binding: VaultFixtures.binding) }
        #expect(throws: VaultConfigurationError.duplicateKeyVersion(1)) { try Keyring(current: v1, previous: [v1]) }
        #expect(try Keyring(current: v2, previous: [v1]).versions == [1, 2])
    }

    @Test("master key derivation refuses a short salt or a non-positive version")
    func derivationInputs() throws {
        #expect(throws: VaultConfigurationError.invalidInstallationSalt(byteCount: 8)) {
            try MasterKey.derive(secret: VaultFixtures.secretA, salt: Array(repeating: 1, count: 8), version: 1, cost: .fastForTests)
        }
        #expect(throws: VaultConfigurationError.invalidKeyVersion(0)) {
            try MasterKey.derive(secret: VaultFixtures.secretA, salt: VaultFixtures.installationSalt, version: 0, cost: .fastForTests)
        }
        #expect(MasterKey.makeInstallationSalt().count == 16)
        #expect(MasterKey.makeInstallationSalt() != MasterKey.makeInstallationSalt())
    }

    @Test("the production cost is scrypt N=2^15, r=8, p=1")
    func productionCost() {
        #expect(MasterKey.Cost.production == MasterKey.Cost(rounds: 32768, blockSize: 8, parallelism: 1))
    }
}
