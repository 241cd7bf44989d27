import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite("EncryptionSecretPolicy")
struct EncryptionSecretPolicyTests {
    private let goodSecret = VaultFixtures.secretA.reveal

    @Test("a secret under 32 characters is refused with the seed's message")
    func shortSecret() {
        #expect(throws: VaultConfigurationError.secretTooShort(variable: "ENCRYPTION_SECRET")) {
            try EncryptionSecretPolicy.validate(Secret(String(goodSecret.prefix(31))))
        }
        #expect(
            VaultConfigurationError.secretTooShort(variable: "ENCRYPTION_SECRET").description
                == "ENCRYPTION_SECRET must be at least 32 characters long"
        )
        #expect(throws: Never.self) { try EncryptionSecretPolicy.validate(Secret(String(goodSecret.prefix(32)))) }
    }

    @Test("placeholders are refused", arguments: [
        "your-strong-encryption-secret-minimum-32-characters",
        "YOUR-STRONG-ENCRYPTION-SECRET-MINIMUM-32-CHARACTERS",
        "change-me-change-me-change-me-change-me",
        "changeme-to-something-long-and-random-please",
        "please-replace-me-with-a-real-secret-value",
        "this-is-a-placeholder-for-the-real-secret-value",
        "your-own-long-random-secret-goes-right-here-ok",
        String(repeating: "a", count: 40),
        String(repeating: "0", count: 64),
        String(repeating: "abc", count: 12),
        String(repeating: "password", count: 5),
        "01234567890123456789012345678901234567890",
        "12345678901234567890123456789012",
        "abcdefghijklmnopqrstuvwxyzabcdefghij",
    ])
    func placeholders(value: String) {
        #expect(throws: VaultConfigurationError.placeholderSecret(variable: "ENCRYPTION_SECRET")) {
            try EncryptionSecretPolicy.validate(Secret(value))
        }
    }

    @Test("random-looking secrets are accepted")
    func goodSecrets() throws {
        try EncryptionSecretPolicy.validate(VaultFixtures.secretA)
        try EncryptionSecretPolicy.validate(VaultFixtures.secretB)
        try EncryptionSecretPolicy.validate(Secret("k3J9x-Tq7wZ2pL0vR8mN4bY6cH1sD5fG"))
    }

    @Test("production is ENV=production or NODE_ENV=production")
    func productionDetection() {
        #expect(EncryptionSecretPolicy.isProduction(environment: ["ENV": "production"]))
        #expect(EncryptionSecretPolicy.isProduction(environment: ["NODE_ENV": "production"]))
        #expect(!EncryptionSecretPolicy.isProduction(environment: ["ENV": "development"]))
        #expect(!EncryptionSecretPolicy.isProduction(environment: [:]))
    }

    @Test("a set secret is validated and used; the previous one too")
    func fromEnvironment() throws {
        let resolved = try EncryptionSecretPolicy.resolve(
            environment: ["ENCRYPTION_SECRET": goodSecret, "ENCRYPTION_SECRET_PREVIOUS": VaultFixtures.secretB.reveal, "ENV": "production"],
            dataDirectory: "/nonexistent"
        )
        #expect(resolved.current.reveal == goodSecret)
        #expect(resolved.previous?.reveal == VaultFixtures.secretB.reveal)
        #expect(resolved.source == .environment)
        #expect(!resolved.generated)

        #expect(throws: VaultConfigurationError.secretTooShort(variable: "ENCRYPTION_SECRET")) {
            try EncryptionSecretPolicy.resolve(environment: ["ENCRYPTION_SECRET": "short"], dataDirectory: "/nonexistent")
        }
        #expect(throws: VaultConfigurationError.placeholderSecret(variable: "ENCRYPTION_SECRET_PREVIOUS")) {
            try EncryptionSecretPolicy.resolve(
                environment: ["ENCRYPTION_SECRET": goodSecret, "ENCRYPTION_SECRET_PREVIOUS": String(repeating: "x", count: 40)],
                dataDirectory: "/nonexistent"
            )
        }
    }

    @Test("production without a secret is refused", arguments: [["ENV": "production"], ["NODE_ENV": "production", "ENCRYPTION_SECRET": ""]])
    func productionRequiresSecret(environment: [String: String]) throws {
        let directory = try VaultFixtures.temporaryDirectory()
        #expect(throws: VaultConfigurationError.secretRequiredInProduction) {
            try EncryptionSecretPolicy.resolve(environment: environment, dataDirectory: directory.path)
        }
        #expect(VaultConfigurationError.secretRequiredInProduction.description == "ENCRYPTION_SECRET is required in production")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("encryption-secret").path))
    }

    @Test("development without a secret creates a 0600 file once and reuses it")
    func developmentSecretFile() throws {
        let base = try VaultFixtures.temporaryDirectory()
        let directory = base.appendingPathComponent("data/nested")
        let first = try EncryptionSecretPolicy.resolve(environment: [:], dataDirectory: directory.path)
        #expect(first.generated)
        let path = directory.appendingPathComponent("encryption-secret").path
        #expect(first.source == .file(path: path, generated: true))
        #expect(first.current.reveal.count == 64)
        try EncryptionSecretPolicy.validate(first.current)

        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["encryption-secret"])

        let second = try EncryptionSecretPolicy.resolve(environment: ["ENV": "development"], dataDirectory: directory.path)
        #expect(!second.generated)
        #expect(second.current == first.current)
        #expect(!first.description.contains(first.current.reveal))
    }

    @Test("a hand-edited development file is trimmed, and refused if weak")
    func editedSecretFile() throws {
        let directory = try VaultFixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("encryption-secret").path
        try (goodSecret + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try EncryptionSecretPolicy.resolve(environment: [:], dataDirectory: directory.path).current.reveal == goodSecret)

        try "too-short\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VaultConfigurationError.self) {
            try EncryptionSecretPolicy.resolve(environment: [:], dataDirectory: directory.path)
        }
    }
}
