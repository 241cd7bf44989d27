import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Stored ciphertexts, start-up checks and key resolution, on both databases.
@Suite struct VaultStorageTests {
    @Test(arguments: TestDatabase.available)
    func everySingleByteChangeAndEveryRowSwapIsRejected(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, components in
            let first = try await VaultAPI.store(client, userId: "u1", key: "sk-first-key-0123456789")
            let second = try await VaultAPI.store(client, userId: "u1", name: "other", key: "sk-second-key-0123456789")
            let stored = try await VaultAPI.ciphertext(components.database, id: first.id)
            let binding = RecordBinding(keyId: first.id, owner: "u1", provider: "openai")
            let cipher = try components.vault.cipher()
            #expect(try cipher.decrypt(stored, binding: binding).reveal == "sk-first-key-0123456789")
            let bytes = Array(stored.utf8)
            for index in bytes.indices {
                for replacement in [UInt8(ascii: "A"), UInt8(ascii: "z"), UInt8(ascii: "."), UInt8(ascii: "0"), bytes[index] ^ 0x01] where replacement != bytes[index] {
                    var changed = bytes
                    changed[index] = replacement
                    #expect(throws: VaultError.self, "byte \(index)") {
                        try cipher.decrypt(String(decoding: changed, as: UTF8.self), binding: binding)
                    }
                }
            }

            // End to end: an altered row is reported undecryptable, never as "no key".
            var altered = bytes
            altered[altered.count - 3] = altered[altered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            try await VaultAPI.setCiphertext(components.database, id: first.id, String(decoding: altered, as: UTF8.self))
            // The second row gets the first row's (valid) ciphertext: bound to another id, it must not open.
            try await VaultAPI.setCiphertext(components.database, id: second.id, stored)
            try await components.vault.reload()
            for id in [first.id, second.id] {
                let record = try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(id)").body)
                #expect(record.status == "undecryptable")
                let decrypted = try await VaultAPI.decrypt(client, id)
                #expect(decrypted.status == 409 && decrypted.body.contains("key_undecryptable"))
            }
            let health = try await client.call(.get, "/api/health", token: nil)
            #expect(health.body.contains(#""undecryptable":2"#))
            let model = try #require(try await APIKeyAPITests.model(client, components, provider: "openai", envVar: "NO_SUCH_VARIABLE_API_KEY"))
            let error = try #require(throws: KeyResolutionError.self) {
                try components.keyResolver.resolve(userId: "u1", provider: .openai, model: model)
            }
            #expect(error.undecryptable)
        }
    }

    @Test(arguments: TestDatabase.available)
    func wrongShortAndPlaceholderSecretsAreRefusedAtStart(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil)) { client, _ in
            _ = try await VaultAPI.store(client, userId: "u1", key: "sk-kept-key-0123456789")
        }
        let refusals: [(String, String)] = [
            (VaultAPI.secretB, "ENCRYPTION_SECRET does not match the key this database was encrypted with"),
            ("too-short-secret", "ENCRYPTION_SECRET must be at least 32 characters long"),
            ("your-strong-encryption-secret-minimum-32-characters", "ENCRYPTION_SECRET is a placeholder value"),
        ]
        for (secret, message) in refusals {
            let error = try await Self.startError(url, extra: VaultAPI.environment(fakes: nil, extra: ["ENCRYPTION_SECRET": secret]))
            #expect(error is VaultConfigurationError)
            #expect("\(error.map { "\($0)" } ?? "started")".hasPrefix(message), "\(String(describing: error))")
            #expect(!"\(String(describing: error))".contains(secret))
        }
        // A wrong previous secret is refused too.
        let wrongPrevious = VaultAPI.environment(fakes: nil, extra: ["ENCRYPTION_SECRET_PREVIOUS": VaultAPI.secretB + "x"])
        let previousError = try await Self.startError(url, extra: wrongPrevious)
        #expect(previousError as? VaultConfigurationError == .canaryMismatch(variable: "ENCRYPTION_SECRET_PREVIOUS"))
        // Production without a secret refuses; development creates one file with 0600 permissions.
        let production = try await Self.startError(try await database.makeURL(), extra: ["ENV": "production", "ENCRYPTION_SECRET": ""])
        #expect(production as? VaultConfigurationError == .secretRequiredInProduction)
        let development = try await TestApp.components(databaseURL: try await database.makeURL(), extra: ["ENCRYPTION_SECRET": ""])
        try await development.database.withRunning { _ in _ = try await development.prepare() }
        let file = development.configuration.dataDirectory + "/encryption-secret"
        let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    /// The error `prepare()` (the start of `serve`) stops with, or nil when it starts.
    static func startError(_ url: String, extra: [String: String]) async throws -> (any Error)? {
        let components = try await TestApp.components(databaseURL: url, extra: extra)
        do {
            try await components.database.withRunning { _ in _ = try await components.prepare() }
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: TestDatabase.available)
    func resolutionOrderIsUserThenSharedThenEnvironmentThenAClearError(database: TestDatabase) async throws {
        let extra = VaultAPI.environment(fakes: nil, extra: ["OPENAI_API_KEY": "sk-from-environment-1234"])
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: extra) { client, components in
            let model = try #require(try await APIKeyAPITests.model(client, components, provider: "openai"))
            let resolver = components.keyResolver
            #expect(try resolver.resolve(userId: "u1", provider: .openai, model: model).source == .env)
            #expect(try resolver.resolve(userId: "u1", provider: .openai, model: model).secret?.reveal == "sk-from-environment-1234")

            let shared = try await VaultAPI.store(client, userId: nil, key: "sk-shared-key-123456")
            #expect(shared.shared && shared.userId == nil)
            let viaShared = try resolver.resolve(userId: "u1", provider: .openai, model: model)
            #expect(viaShared.source == .shared && viaShared.keyId == shared.id && viaShared.secret?.reveal == "sk-shared-key-123456")
            #expect(try resolver.resolve(userId: nil, provider: .openai, model: model).source == .shared)

            _ = try await VaultAPI.store(client, userId: "u1", name: "older", key: "sk-user-older-123456")
            let newer = try await VaultAPI.store(client, userId: "u1", name: "newer", key: "sk-user-newer-123456")
            let viaUser = try resolver.resolve(userId: "u1", provider: .openai, model: model)
            #expect(viaUser.source == .user && viaUser.keyId == newer.id && viaUser.secret?.reveal == "sk-user-newer-123456")
            // Deactivated keys are skipped.
            _ = try await client.call(.patch, "/api/api-keys/\(newer.id)", json: #"{"isActive": false}"#)
            #expect(try resolver.resolve(userId: "u1", provider: .openai, model: model).secret?.reveal == "sk-user-older-123456")
            #expect(try resolver.resolve(userId: "u2", provider: .openai, model: model).source == .shared)

            let anthropic = try #require(try await APIKeyAPITests.model(client, components, provider: "anthropic"))
            let error = try #require(throws: KeyResolutionError.self) { try resolver.resolve(userId: "u1", provider: .anthropic, model: anthropic) }
            #expect(!error.undecryptable && error.description.contains("anthropic") && error.description.contains("ANTHROPIC_API_KEY"))

            let ollama = try #require(try await APIKeyAPITests.model(client, components, provider: "ollama"))
            let none = try resolver.resolve(userId: "u1", provider: .ollama, model: ollama)
            #expect(none.secret == nil && none.source == KeySource.none)
            _ = try await VaultAPI.store(client, userId: "u1", provider: "ollama", key: "ollama-proxy-key-1234")
            #expect(try resolver.resolve(userId: "u1", provider: .ollama, model: ollama).source == .user)
        }
    }

    @Test(arguments: TestDatabase.available)
    func importEnvKeysImportsOnceByMaskedPrefix(database: TestDatabase) async throws {
        let extra = VaultAPI.environment(fakes: nil, extra: ["OPENAI_API_KEY": "sk-env-openai-0123456789", "ANTHROPIC_API_KEY": "sk-ant-env-0123456789"])
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: extra) { client, components in
            let importer = EnvironmentKeyImport(vault: components.vault)
            let first = try await importer.run(environment: components.configuration.environment, models: [])
            #expect(first.filter(\.imported).map(\.variable).sorted() == ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"])
            #expect(first.allSatisfy { !$0.keyPrefix.contains("0123456") })
            let second = try await importer.run(environment: components.configuration.environment, models: [])
            #expect(second.count == 2 && second.allSatisfy { !$0.imported })
            let shared = try decodeJSON([APIKey].self, try await client.call(.get, "/api/api-keys?shared=true").body)
            #expect(shared.count == 2 && shared.allSatisfy { $0.shared })
        }
    }
}
