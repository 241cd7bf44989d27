import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A credential goes only to the host it was given for (issue 11, finding 1).
@Suite struct CredentialBindingTests {
    static let userHeader = HTTPField.Name("X-User-Id")!

    /// A re-pointed model gets no user, shared or environment key; a key stored for its endpoint is sent there.
    @Test(arguments: TestDatabase.available)
    func aRepointedModelSendsNoKeyButOneStoredForItsEndpoint(database: TestDatabase) async throws {
        try await TestUpstreamServer.withServer { port, listener, _ in
            try await GatewayHarness.run(database: database) { client, fakes, _ in
                let endpoint = "http://127.0.0.1:\(port)/openai/v1"
                let created = try await client.call(
                    .post, "/api/models",
                    json: #"{"name": "evil/echo", "provider": "openai", "modelId": "fake-echo", "providerSettings": {"baseURL": "\#(endpoint)"}}"#)
                #expect(created.status == .created, "\(created.body)")
                let userKey = try await VaultAPI.store(client, userId: "alice", key: "sk-alice-user-0123456789")
                let sharedKey = try await VaultAPI.store(client, userId: nil, name: "team", key: "sk-team-shared-0123456789")
                let body = GatewayHarness.chatBody(model: "evil/echo", stream: false)

                // With alice's key, then the shared key, then only the environment key: refused, nothing sent.
                for removing in [userKey.id, sharedKey.id, nil] {
                    let answer = try await client.call(.post, "/v1/chat/completions", json: body, headers: [Self.userHeader: "alice"])
                    #expect(answer.status == .badRequest, "\(answer.body)")
                    #expect(answer.body.contains("evil/echo") && answer.body.contains("127.0.0.1:\(port)/openai/v1"), "\(answer.body)")
                    #expect(!answer.body.contains("sk-"), "\(answer.body)")
                    if let removing { #expect(try await client.call(.delete, "/api/api-keys/\(removing)").status == .noContent) }
                }
                #expect(await listener.requests.isEmpty)

                // A key stored for that endpoint goes there, and only there.
                let bound = try await client.call(
                    .post, "/api/api-keys?skipValidation=true",
                    json: #"{"userId": "alice", "provider": "openai", "keyName": "own-server", "apiKey": "sk-bound-0123456789", "endpoint": "\#(endpoint)/"}"#)
                #expect(bound.status == .created, "\(bound.body)")
                #expect(try decodeJSON(APIKey.self, bound.body).endpoint == "\(endpoint)/")
                let answer = try await client.call(.post, "/v1/chat/completions", json: body, headers: [Self.userHeader: "alice"])
                #expect(answer.status == .ok, "\(answer.body)")
                #expect(await listener.last?.headers["authorization"] == "Bearer sk-bound-0123456789")

                // The provider's own endpoint never gets the bound key: alice falls back to the environment key there.
                let home = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false),
                    headers: [Self.userHeader: "alice"])
                #expect(home.status == .ok, "\(home.body)")
                #expect(await fakes.recorder.last(provider: "openai")?.headers["authorization"] == "Bearer \(GatewayHarness.envKey(.openai))")
            }
        }
    }

    @Test func aModelThatNeedsNoKeyIsCalledWithoutOne() async throws {
        try await TestUpstreamServer.withServer { port, listener, _ in
            try await GatewayHarness.run { client, _, _ in
                let settings = #"{"baseURL": "http://127.0.0.1:\#(port)/openai/v1", "apiKeyRequired": false}"#
                let created = try await client.call(
                    .post, "/api/models", json: #"{"name": "local/echo", "provider": "openai", "modelId": "fake-echo", "providerSettings": \#(settings)}"#)
                #expect(created.status == .created, "\(created.body)")
                let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "local/echo", stream: false))
                #expect(answer.status == .ok, "\(answer.body)")
                #expect(await listener.last?.headers["authorization"] == nil)
            }
        }
    }

    @Test func theEndpointIsPartOfTheCiphertextsBinding() throws {
        let cipher = try VaultFixtures.cipher()
        let bound = RecordBinding(keyId: "k", owner: "u", provider: "openai", endpoint: "https://a.example/v1")
        let stored = try cipher.encrypt(Secret("sk-bound-0123456789"), binding: bound)
        #expect(try cipher.decrypt(stored, binding: bound).reveal == "sk-bound-0123456789")
        #expect(throws: VaultError.self) { try cipher.decrypt(stored, binding: RecordBinding(keyId: "k", owner: "u", provider: "openai")) }
        #expect(throws: VaultError.self) {
            try cipher.decrypt(stored, binding: RecordBinding(keyId: "k", owner: "u", provider: "openai", endpoint: "https://b.example/v1"))
        }
        // Rows without an endpoint keep the associated data they were sealed with before endpoints existed.
        let legacy = RecordBinding(keyId: "k", owner: "u", provider: "openai")
        #expect(legacy.associatedData(keyVersion: 1) == RecordBinding(keyId: "k", owner: "u", provider: "openai", endpoint: nil).associatedData(keyVersion: 1))
        #expect(legacy.associatedData(keyVersion: 1) != bound.associatedData(keyVersion: 1))
    }

    @Test(arguments: TestDatabase.available)
    func serverVariablesAreNeverProviderKeys(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: ["PROVIDER_KEY_VARIABLES": "TEAM_OPENAI_KEY, ENCRYPTION_SECRET"]) { client, fakes, components in
            for variable in ["ENCRYPTION_SECRET", "INTERNAL_SECRET", "ADMIN_TOKEN", "DATABASE_URL", "METRICS_TOKEN"] {
                let answer = try await client.call(
                    .post, "/api/models", json: #"{"name": "m-\#(variable)", "provider": "openai", "modelId": "fake-echo", "apiKeyEnvVar": "\#(variable)"}"#)
                #expect(answer.status == .badRequest, "\(variable): \(answer.body)")
                #expect(answer.body.contains("apiKeyEnvVar"))
            }
            for variable in ["MY_OPENAI_API_KEY", "TEAM_OPENAI_KEY", "OPENAI_API_KEY"] {
                let answer = try await client.call(
                    .post, "/api/models", json: #"{"name": "m-\#(variable)", "provider": "openai", "modelId": "fake-echo", "apiKeyEnvVar": "\#(variable)"}"#)
                #expect(answer.status == .created, "\(variable): \(answer.body)")
            }
            // A row written before the rule (or behind the API's back) is refused at resolution too.
            let name = GatewayHarness.modelName(.openai)
            try await components.database.run { sql in
                try await sql.raw("UPDATE models SET api_key_env_var = \(bind: "ENCRYPTION_SECRET") WHERE name = \(bind: name)").run()
            }
            try await components.registry.reload()
            let before = await fakes.recorder.totalReceived
            let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: name, stream: false))
            #expect(answer.status == .badRequest, "\(answer.body)")
            #expect(answer.body.contains("ENCRYPTION_SECRET") && !answer.body.contains("test-encryption-secret"))
            #expect(await fakes.recorder.totalReceived == before)

            // import-env-keys looks at provider variables only, even when a model names another.
            let environment = components.configuration.environment.merging(["INTERNAL_SECRET": VaultAPI.internalSecret]) { _, new in new }
            let lines = try await EnvironmentKeyImport(vault: components.vault).run(environment: environment, models: components.registry.snapshot.models)
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { ProviderKeyVariables(environment: environment).allows($0.variable) })
            #expect(!lines.contains { $0.variable == "ENCRYPTION_SECRET" })
        }
    }

    @Test func baseURLsMustBeHTTPWithAHostAndNoUserinfo() async throws {
        for bad in ["http+unix://%2Fvar%2Frun%2Fdocker.sock/v1", "https://user:pass@api.example.com/v1", "https://token@api.example.com", "ftp://x.example",
                    "/relative/path", "https://"] {
            #expect(EndpointURL.problem(bad) != nil, "\(bad)")
            #expect(throws: ConfigurationError.self, "\(bad)") { try AppConfiguration(environment: ["OPENAI_BASE_URL": bad]) }
        }
        #expect(EndpointURL.problem("http://127.0.0.1:8080/v1") == nil)
        #expect(EndpointURL.normalized("HTTPS://API.Example.com:443/v1/") == EndpointURL.normalized("https://api.example.com/v1"))

        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, _ in
            for bad in ["http+unix://%2Ftmp%2Fs/v1", "https://admin:hunter2@evil.example/v1"] {
                let model = try await client.call(
                    .post, "/api/models", json: #"{"name": "bad", "provider": "openai", "modelId": "x", "providerSettings": {"baseURL": "\#(bad)"}}"#)
                #expect(model.status == .badRequest)
                #expect(model.body.contains("providerSettings.baseURL"), "\(model.body)")
                #expect(!model.body.contains("hunter2"))
                let key = try await client.call(
                    .post, "/api/api-keys?skipValidation=true",
                    json: #"{"shared": true, "provider": "openai", "keyName": "k", "apiKey": "sk-0123456789abcdef", "endpoint": "\#(bad)"}"#)
                #expect(key.status == .badRequest)
                #expect(key.body.contains("endpoint"), "\(key.body)")
            }
        }
    }
}
