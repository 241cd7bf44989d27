import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// OpenAI-compatible servers (issue 22): several per registry, each with its own base URL, key variable, stored keys
/// and capabilities; a key never reaches another server.
@Suite struct CompatibleServerTests {
    static let userHeader = HTTPField.Name("X-User-Id")!
    static let alphaEnvKey = "sk-alpha-env-0123456789"
    static let betaEnvKey = "sk-beta-env-0123456789"

    /// A model on the fakes' OpenAI-compatible server named `server` (any name is served under `/openai-compatible/{server}/v1`).
    static func createModel(
        _ client: any TestClientProtocol, _ fakes: RunningFakeProviders, name: String, server: String, variable: String?,
        capabilities: [String]? = nil, mode: String = "chat"
    ) async throws {
        let baseURL = "http://\(fakes.host):\(fakes.port)/openai-compatible/\(server)/v1"
        let capabilitiesJSON = capabilities.map { #", "capabilities": [\#($0.map { "\"\($0)\"" }.joined(separator: ", "))]"# } ?? ""
        let variableJSON = variable.map { #", "apiKeyEnvVar": "\#($0)""# } ?? ""
        let body = """
            {"name": "\(name)", "provider": "openai-compatible", "modelId": "fake-echo", "mode": "\(mode)",
             "providerSettings": {"server": "\(server)", "baseURL": "\(baseURL)"\(capabilitiesJSON)}\(variableJSON)}
            """
        let created = try await client.call(.post, "/api/models", json: body)
        #expect(created.status == .created, "\(created.body)")
    }

    /// The Authorization header of every request the fakes received for `server`.
    static func authorizations(_ fakes: RunningFakeProviders, server: String) async -> [String?] {
        await fakes.recorder.requests.filter { $0.provider == "openai-compatible" && $0.path.hasPrefix("/openai-compatible/\(server)/") }
            .map { $0.headers["authorization"] }
    }

    @Test(arguments: TestDatabase.available)
    func twoServersWithDifferentKeysAreRoutedToTheirOwnBaseURLs(database: TestDatabase) async throws {
        let extra = ["ALPHA_API_KEY": Self.alphaEnvKey, "BETA_API_KEY": Self.betaEnvKey]
        try await GatewayHarness.run(database: database, extra: extra) { client, fakes, _ in
            try await Self.createModel(client, fakes, name: "alpha/echo", server: "alpha", variable: "ALPHA_API_KEY")
            try await Self.createModel(client, fakes, name: "beta/echo", server: "beta", variable: "BETA_API_KEY")

            // Each server's environment key goes to its own base URL, streamed and not.
            for stream in [false, true] {
                for model in ["alpha/echo", "beta/echo"] {
                    let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: stream, tools: true))
                    #expect(answer.status == .ok, "\(answer.body)")
                    #expect(answer.body.contains("openai-compatible"), "\(answer.body)")
                }
            }
            #expect(await Self.authorizations(fakes, server: "alpha") == Array(repeating: "Bearer \(Self.alphaEnvKey)", count: 2))
            #expect(await Self.authorizations(fakes, server: "beta") == Array(repeating: "Bearer \(Self.betaEnvKey)", count: 2))

            // Alice's key for beta, stored by naming the server: bound to beta's base URL, checked there, named after it.
            let stored = try await client.call(
                .post, "/api/api-keys", json: #"{"userId": "alice", "provider": "openai-compatible", "server": "beta", "apiKey": "sk-alice-beta-0123456789"}"#)
            #expect(stored.status == .created, "\(stored.body)")
            let key = try decodeJSON(APIKey.self, stored.body)
            #expect(key.keyName == "beta" && key.endpoint == "http://\(fakes.host):\(fakes.port)/openai-compatible/beta/v1" && key.isValid == true)
            await fakes.recorder.reset()
            for model in ["alpha/echo", "beta/echo"] {
                let answer = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false), headers: [Self.userHeader: "alice"])
                #expect(answer.status == .ok, "\(answer.body)")
            }
            #expect(await Self.authorizations(fakes, server: "beta") == ["Bearer sk-alice-beta-0123456789"])
            #expect(await Self.authorizations(fakes, server: "alpha") == ["Bearer \(Self.alphaEnvKey)"])

            // Nothing any server received carries another server's key.
            let all = await fakes.recorder.requests.filter { $0.provider == "openai-compatible" }
            #expect(!all.contains { $0.path.contains("/alpha/") && ($0.headers["authorization"] ?? "").contains("beta") })
            #expect(!all.contains { $0.path.contains("/beta/") && ($0.headers["authorization"] ?? "").contains("alpha") })
        }
    }

    @Test func aKeyForACompatibleServerMustNameItsServer() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            try await Self.createModel(client, fakes, name: "alpha/echo", server: "alpha", variable: nil)
            let noServer = try await client.call(
                .post, "/api/api-keys?skipValidation=true", json: #"{"shared": true, "provider": "openai-compatible", "apiKey": "sk-nowhere-0123456789"}"#)
            #expect(noServer.status == .badRequest && noServer.body.contains("server") && noServer.body.contains("alpha"), "\(noServer.body)")
            let unknown = try await client.call(
                .post, "/api/api-keys?skipValidation=true",
                json: #"{"shared": true, "provider": "openai-compatible", "server": "gamma", "apiKey": "sk-gamma-0123456789"}"#)
            #expect(unknown.status == .badRequest && unknown.body.contains("gamma"), "\(unknown.body)")
            let elsewhere = try await client.call(
                .post, "/api/api-keys?skipValidation=true",
                json: #"{"shared": true, "provider": "openai-compatible", "server": "alpha", "endpoint": "https://evil.example/v1", "apiKey": "sk-a-0123456789"}"#)
            #expect(elsewhere.status == .badRequest && elsewhere.body.contains("endpoint"), "\(elsewhere.body)")
            let notCompatible = try await client.call(
                .post, "/api/api-keys?skipValidation=true", json: #"{"shared": true, "provider": "openai", "server": "alpha", "apiKey": "sk-a-0123456789"}"#)
            #expect(notCompatible.status == .badRequest && notCompatible.body.contains("server"), "\(notCompatible.body)")
            for body in [noServer.body, unknown.body, elsewhere.body] { #expect(!body.contains("0123456789")) }
        }
    }

    @Test func aModelMustNameItsServerAndNoOtherProvidersKeyVariable() async throws {
        try await GatewayHarness.run { client, _, _ in
            let cases: [(String, String)] = [
                (#"{"baseURL": "https://api.groq.com/openai/v1"}"#, "providerSettings.server"),
                (#"{"server": "groq"}"#, "providerSettings.baseURL"),
                (#"{"server": "Groq Cloud", "baseURL": "https://api.groq.com/openai/v1"}"#, "providerSettings.server"),
                (#"{"server": "groq", "baseURL": "https://api.groq.com/openai/v1", "capabilities": ["chat", "teleport"]}"#, "providerSettings.capabilities"),
            ]
            for (settings, field) in cases {
                let refused = try await client.call(
                    .post, "/api/models", json: #"{"name": "groq/x", "provider": "openai-compatible", "modelId": "x", "providerSettings": \#(settings)}"#)
                #expect(refused.status == .badRequest && refused.body.contains(field), "\(settings): \(refused.body)")
            }
            let borrowed = try await client.call(
                .post, "/api/models",
                json: #"{"name": "groq/x", "provider": "openai-compatible", "modelId": "x", "apiKeyEnvVar": "OPENAI_API_KEY", "providerSettings": {"server": "groq", "baseURL": "https://evil.example/v1"}}"#)
            #expect(borrowed.status == .badRequest && borrowed.body.contains("apiKeyEnvVar") && borrowed.body.contains("openai"), "\(borrowed.body)")
            // A model switched to the provider later is checked as the update leaves it.
            let plain = try await client.call(.post, "/api/models", json: #"{"name": "plain/x", "provider": "openai", "modelId": "x"}"#)
            let id = try decodeJSON(Model.self, plain.body).id
            let switched = try await client.call(.patch, "/api/models/\(id)", json: #"{"provider": "openai-compatible"}"#)
            #expect(switched.status == .badRequest && switched.body.contains("providerSettings.server"), "\(switched.body)")
        }
    }

    @Test func whatAServerLacksIsRefusedBeforeAnythingIsSent() async throws {
        try await GatewayHarness.run(extra: ["ALPHA_API_KEY": Self.alphaEnvKey]) { client, fakes, _ in
            try await Self.createModel(client, fakes, name: "plain/echo", server: "plain", variable: "ALPHA_API_KEY", capabilities: ["chat"])
            try await Self.createModel(client, fakes, name: "plain/embed", server: "plain", variable: "ALPHA_API_KEY", capabilities: ["chat"], mode: "embedding")
            try await Self.createModel(client, fakes, name: "full/embed", server: "full", variable: "ALPHA_API_KEY", mode: "embedding")
            let cases: [(String, String, String)] = [
                ("/v1/chat/completions", GatewayHarness.chatBody(model: "plain/echo", stream: true), "stream"),
                ("/v1/chat/completions", GatewayHarness.chatBody(model: "plain/echo", stream: false, tools: true), "tools"),
                ("/v1/embeddings", #"{"model": "plain/embed", "input": "hello"}"#, "embeddings"),
            ]
            for (path, body, missing) in cases {
                let refused = try await client.call(.post, path, json: body)
                #expect(refused.status == .badRequest && refused.body.contains("'plain'") && refused.body.contains("no \(missing)"), "\(refused.body)")
            }
            #expect(await fakes.recorder.requests.filter { $0.provider == "openai-compatible" }.isEmpty)
            // What it has goes through: a plain chat, and embeddings on a server that lists nothing (so has everything).
            let chat = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "plain/echo", stream: false))
            #expect(chat.status == .ok, "\(chat.body)")
            let embedded = try await client.call(.post, "/v1/embeddings", json: #"{"model": "full/embed", "input": "hello"}"#)
            #expect(embedded.status == .ok, "\(embedded.body)")
            #expect(await fakes.recorder.last(provider: "openai-compatible")?.path == "/openai-compatible/full/v1/embeddings")
        }
    }

    @Test func aServerWithoutAKeyVariableIsCalledWithoutAKey() async throws {
        try await TestUpstreamServer.withServer { port, listener, _ in
            try await GatewayHarness.run { client, _, _ in
                let created = try await client.call(
                    .post, "/api/models",
                    json: #"{"name": "local/echo", "provider": "openai-compatible", "modelId": "fake-echo", "providerSettings": {"server": "local-vllm", "baseURL": "http://127.0.0.1:\#(port)/openai/v1"}}"#)
                #expect(created.status == .created, "\(created.body)")
                let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "local/echo", stream: false))
                #expect(answer.status == .ok, "\(answer.body)")
                #expect(await listener.last?.headers["authorization"] == nil)
                #expect(await listener.last?.path == "/openai/v1/chat/completions")
            }
        }
    }

    @Test func aServersKeyVariableThatIsUnsetIsNamedInTheRefusal() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            try await Self.createModel(client, fakes, name: "gamma/echo", server: "gamma", variable: "GAMMA_API_KEY")
            let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "gamma/echo", stream: false))
            #expect(answer.status == .badRequest || answer.status == .unauthorized, "\(answer.body)")
            #expect(answer.body.contains("gamma") && answer.body.contains("GAMMA_API_KEY"), "\(answer.body)")
            #expect(await fakes.recorder.requests.filter { $0.provider == "openai-compatible" }.isEmpty)
        }
    }

    @Test func theCatalogShipsTheHostedServersWithTheirBaseURLsAndKeyVariables() throws {
        let servers = try CatalogSeeder.catalog().filter { $0.provider.value == "openai-compatible" }.map { fields in
            (fields.providerSettings.value?["server"]?.stringValue ?? "", fields.providerSettings.value?["baseURL"]?.stringValue ?? "", fields.apiKeyEnvVar.value ?? "")
        }
        let expected: [String: (String, String)] = [
            "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"), "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
            "together": ("https://api.together.xyz/v1", "TOGETHER_API_KEY"), "fireworks": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
            "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"), "cerebras": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
        ]
        #expect(Set(servers.map(\.0)) == Set(expected.keys))
        for (server, baseURL, variable) in servers {
            #expect(expected[server]?.0 == baseURL && expected[server]?.1 == variable, "\(server)")
        }
        // Priced, so calls record a cost.
        #expect(try CatalogSeeder.catalog().filter { $0.provider.value == "openai-compatible" }.allSatisfy { $0.inputCostPerMillion.value != nil })
    }
}
