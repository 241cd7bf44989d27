import FakeProviders
import Foundation
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `/api/api-keys`, `/api/users/me/keys`, decrypt and audit, on both databases, against fake providers.
@Suite struct APIKeyAPITests {
    static let seedBody = """
        {
          "userId": "user-123",
          "provider": "OPENAI",
          "keyName": "Production Key",
          "apiKey": "sk-proj-abc123..."
        }
        """

    @Test(arguments: TestDatabase.available)
    func seedExampleBodyStoresAValidatedKeyAndRoundTrips(database: TestDatabase) async throws {
        try await VaultAPI.withFakes { fakes in
            try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: fakes)) { client, components in
                let created = try await client.call(.post, "/api/api-keys", json: Self.seedBody)
                #expect(created.status == .created)
                #expect(!created.body.contains("sk-proj-abc123..."))
                let key = try decodeJSON(APIKey.self, created.body)
                #expect(key.userId == "user-123" && key.provider == .openai && key.keyName == "Production Key")
                #expect(key.keyPrefix == "sk-p********3...")
                #expect(key.isActive && key.isValid == true && key.usageCount == 0 && key.status == "ok")
                #expect(created.body.contains(#""lastUsedAt":null"#))

                let decrypted = try await VaultAPI.decrypt(client, key.id)
                #expect(decrypted.status == 200)
                #expect(try decodeJSON(VaultAPI.Decrypted.self, decrypted.body).apiKey == "sk-proj-abc123...")

                let listed = try decodeJSON([APIKey].self, try await client.call(.get, "/api/api-keys?userId=user-123").body)
                #expect(listed.map(\.id) == [key.id])
                #expect(try decodeJSON([APIKey].self, try await client.call(.get, "/api/api-keys?provider=anthropic").body).isEmpty)

                let duplicate = try await client.call(.post, "/api/api-keys", json: Self.seedBody)
                #expect(duplicate.status == .conflict)

                let renamed = try await client.call(.patch, "/api/api-keys/\(key.id)", json: #"{"keyName": "Old", "isActive": false}"#)
                #expect(renamed.status == .ok)
                let after = try decodeJSON(APIKey.self, renamed.body)
                #expect(after.keyName == "Old" && !after.isActive && after.keyPrefix == key.keyPrefix)

                let replaced = try await client.call(.patch, "/api/api-keys/\(key.id)", json: #"{"apiKey": "sk-replaced-0000000000009999"}"#)
                #expect(replaced.status == .ok)
                #expect(try decodeJSON(APIKey.self, replaced.body).keyPrefix == "sk-repl********9999")
                #expect(try decodeJSON(VaultAPI.Decrypted.self, try await VaultAPI.decrypt(client, key.id).body).apiKey == "sk-replaced-0000000000009999")

                #expect(try await client.call(.delete, "/api/api-keys/\(key.id)").status == .noContent)
                #expect(try await client.call(.get, "/api/api-keys/\(key.id)").status == .notFound)
                #expect(components.vault.health.keys == 0)
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func validationAcceptedRejectedAndUnreachable(database: TestDatabase) async throws {
        try await VaultAPI.withFakes { fakes in
            let extra = VaultAPI.environment(fakes: fakes, extra: ["DEEPSEEK_BASE_URL": "http://127.0.0.1:1/v1"])
            try await TestApp.run(databaseURL: try await database.makeURL(), extra: extra) { client, _ in
                for provider in ["openai", "anthropic", "gemini", "xai"] {
                    let ok = try await client.call(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "\#(provider)", "apiKey": "good-key-123456789"}"#)
                    #expect(ok.status == .created, "\(provider): \(ok.body)")
                    #expect(try decodeJSON(APIKey.self, ok.body).isValid == true)

                    let rejected = try await client.call(
                        .post, "/api/api-keys", json: #"{"userId": "u1", "provider": "\#(provider)", "keyName": "b", "apiKey": "bad-key-123456789"}"#)
                    #expect(rejected.status == .unprocessableContent, "\(provider): \(rejected.body)")
                    #expect(try decodeJSON(ErrorBody.self, rejected.body).error.code == "key_rejected")
                    #expect(!rejected.body.contains("bad-key-123456789"))
                }
                // Rejected keys are not stored.
                #expect(try decodeJSON([APIKey].self, try await client.call(.get, "/api/api-keys?userId=u1").body).count == 4)

                let unreachable = try await client.call(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "deepseek", "apiKey": "sk-deep-123456789"}"#)
                #expect(unreachable.status == .badGateway)
                let error = try decodeJSON(ErrorBody.self, unreachable.body).error
                #expect(error.code == "provider_unreachable" && error.message.contains("could not be reached"))

                let skipped = try await client.call(
                    .post, "/api/api-keys?skipValidation=true", json: #"{"userId": "u1", "provider": "deepseek", "apiKey": "sk-deep-123456789"}"#)
                #expect(skipped.status == .created)
                #expect(try decodeJSON(APIKey.self, skipped.body).isValid == nil)
                #expect(skipped.body.contains(#""isValid":null"#))
                let skippedByBody = try await client.call(
                    .post, "/api/api-keys", json: #"{"userId": "u2", "provider": "deepseek", "apiKey": "sk-deep-123456789", "validate": false}"#)
                #expect(skippedByBody.status == .created)

                let userToken = try await VaultAPI.token(client, role: "user", userId: "u3")
                let userSkip = try await client.call(
                    .post, "/api/api-keys?skipValidation=true", token: userToken, json: #"{"provider": "openai", "apiKey": "sk-user-123456789"}"#)
                #expect(userSkip.status == .forbidden)

                // Re-validation of a stored key.
                let stored = try decodeJSON(APIKey.self, skipped.body)
                #expect(try await client.call(.post, "/api/api-keys/\(stored.id)/validate").status == .badGateway)
                let openai = try decodeJSON([APIKey].self, try await client.call(.get, "/api/api-keys?userId=u1&provider=openai").body)[0]
                let report = try await client.call(.post, "/api/api-keys/\(openai.id)/validate")
                #expect(report.status == .ok && report.body.contains(#""result":"valid""#))
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func userACannotSeeChangeOrUseUserBsKey(database: TestDatabase) async throws {
        try await VaultAPI.withFakes { fakes in
            try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: fakes)) { client, components in
                let alice = try await VaultAPI.token(client, role: "user", userId: "alice")
                let bob = try await VaultAPI.token(client, role: "user", userId: "bob")
                let service = try await VaultAPI.token(client, role: "service")

                let bobsKey = try await client.call(.put, "/api/users/me/keys/OPENAI", token: bob, json: #"{"apiKey": "sk-bob-secret-key-1234"}"#)
                #expect(bobsKey.status == .created)
                let key = try decodeJSON(APIKey.self, bobsKey.body)
                #expect(key.userId == "bob")
                let again = try await client.call(.put, "/api/users/me/keys/openai", token: bob, json: #"{"apiKey": "sk-bob-secret-key-5678"}"#)
                #expect(try again.status == .ok && decodeJSON(APIKey.self, again.body).id == key.id)

                // Alice: 404 for every operation on Bob's key id, and an empty list for Bob's user id.
                #expect(try await client.call(.get, "/api/api-keys/\(key.id)", token: alice).status == .notFound)
                #expect(try await client.call(.patch, "/api/api-keys/\(key.id)", token: alice, json: #"{"isActive": false}"#).status == .notFound)
                #expect(try await client.call(.delete, "/api/api-keys/\(key.id)", token: alice).status == .notFound)
                #expect(try await client.call(.post, "/api/api-keys/\(key.id)/validate", token: alice).status == .notFound)
                #expect(try await client.call(.get, "/api/api-keys?userId=bob", token: alice).body == "[]")
                #expect(try await client.call(.get, "/api/users/me/keys", token: alice).body == "[]")
                let forBob = try await client.call(.post, "/api/api-keys", token: alice, json: #"{"userId": "bob", "provider": "openai", "apiKey": "sk-alice-1234567"}"#)
                #expect(forBob.status == .forbidden)
                #expect(try await VaultAPI.decrypt(client, key.id, secret: nil).status == 401)
                // A bearer token alone never decrypts.
                #expect(try await client.call(.get, "/api/api-keys/\(key.id)/decrypt").status == .unauthorized)

                // Bob sees his own; the service acts for Bob; the key is still active and unchanged.
                #expect(try decodeJSON([APIKey].self, try await client.call(.get, "/api/users/me/keys", token: bob).body).map(\.id) == [key.id])
                #expect(try await client.call(.get, "/api/api-keys/\(key.id)", token: service).status == .ok)
                let serviceCreate = try await client.call(
                    .post, "/api/api-keys", token: service, json: #"{"userId": "carol", "provider": "anthropic", "apiKey": "sk-ant-carol-1234"}"#)
                #expect(serviceCreate.status == .created)
                let serviceShared = try await client.call(
                    .post, "/api/api-keys", token: service, json: #"{"shared": true, "provider": "anthropic", "apiKey": "sk-ant-shared-1234"}"#)
                #expect(serviceShared.status == .forbidden)

                // Use: resolution for Alice never yields Bob's key.
                let model = try #require(try await Self.model(client, components, provider: "openai"))
                #expect(throws: KeyResolutionError.self) { try components.keyResolver.resolve(userId: "alice", provider: .openai, model: model) }
                let bobs = try components.keyResolver.resolve(userId: "bob", provider: .openai, model: model)
                #expect(bobs.source == .user && bobs.keyId == key.id && bobs.secret?.reveal == "sk-bob-secret-key-5678")
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func decryptEndpointAnswersOnlyToTheInternalSecretAndIsAudited(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, components in
            let key = try await VaultAPI.store(client, userId: "u1", key: "sk-decrypt-me-123456")
            let missing = try await VaultAPI.decrypt(client, key.id, secret: nil)
            let wrong = try await VaultAPI.decrypt(client, key.id, secret: "internal-secret-for-tests-5a1b9X")
            let unknownId = try await VaultAPI.decrypt(client, "no-such-id", secret: "wrong")
            #expect(missing.status == 401 && wrong.status == 401 && unknownId.status == 401)
            #expect(missing.body == wrong.body && wrong.body == unknownId.body)
            let right = try await VaultAPI.decrypt(client, key.id)
            #expect(right.status == 200)
            #expect(try decodeJSON(VaultAPI.Decrypted.self, right.body).apiKey == "sk-decrypt-me-123456")
            #expect(try await VaultAPI.decrypt(client, "no-such-id").status == 404)

            let audit = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit?action=decrypt&keyId=\(key.id)").body)
            #expect(audit.map(\.result) == ["ok"])
            // Refusals are aggregated per source and minute (issue 11), never one row per attempt with the raw id.
            await components.decryptRefusals.flush(all: true)
            let denied = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit?action=decrypt").body).filter { $0.result == "denied" }
            // One row, or two when the three refusals straddle a minute.
            #expect((1...2).contains(denied.count) && denied.map(\.count).reduce(0, +) == 3 && denied.allSatisfy { $0.keyId == nil })
            let all = try await client.call(.get, "/api/audit")
            #expect(!all.body.contains("sk-decrypt-me-123456"))
            let created = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit?action=create").body)
            #expect(created.count == 1 && created[0].keyId == key.id && created[0].tokenId == "env:ADMIN_TOKEN")
            let future = try await client.call(.get, "/api/audit?from=2999-01-01T00:00:00Z")
            #expect(future.body == "[]")
            let userToken = try await VaultAPI.token(client, role: "user", userId: "u1")
            #expect(try await client.call(.get, "/api/audit", token: userToken).status == .forbidden)
        }
        // INTERNAL_SECRET unset: the endpoint is disabled with the same 401.
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil, extra: ["INTERNAL_SECRET": ""])) { client, _ in
            let key = try await VaultAPI.store(client, userId: "u1", key: "sk-decrypt-me-123456")
            let disabled = try await VaultAPI.decrypt(client, key.id, secret: "")
            let guessed = try await VaultAPI.decrypt(client, key.id, secret: VaultAPI.internalSecret)
            #expect(disabled.status == 401 && guessed.status == 401 && disabled.body == guessed.body)
        }
    }

    /// A model of `provider` created through the API (the registry is not seeded in these tests).
    static func model(_ client: any TestClientProtocol, _ components: ServiceComponents, provider: String, envVar: String? = nil) async throws -> Model? {
        let variable = envVar.map { #", "apiKeyEnvVar": "\#($0)""# } ?? ""
        let name = "m-\(provider)-\(UUID().uuidString.prefix(6))"
        _ = try await client.call(.post, "/api/models", json: #"{"name": "\#(name)", "provider": "\#(provider)", "modelId": "x"\#(variable)}"#)
        return components.registry.model(named: name)
    }
}
