import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// Vertex AI through the gateway over real HTTP to the fake: Gemini models by `generateContent`, Claude by `rawPredict`,
/// from `/v1/chat/completions` and `/v1/messages`, streamed and not, authorized by the fakes' service account.
@Suite struct VertexGatewayTests {
    static let xUserId = HTTPField.Name("x-user-id")!
    static let gemini = GatewayHarness.modelName(.vertex)
    static let claude = "vertex-claude/fake-echo"
    static let claudeTool = "vertex-claude/fake-tool"
    static let modelsPath = "/vertex/v1/projects/fake-project/locations/us-central1/publishers"

    /// Claude models on Vertex (the harness's Vertex models are Gemini's: their ids do not start with `claude`).
    static func addClaude(_ client: any TestClientProtocol, settings: String = "{}") async throws {
        for (name, id) in [(claude, "claude-fake-echo"), (claudeTool, "claude-fake-tool")] {
            let body = """
                {"name": "\(name)", "provider": "vertex", "modelId": "\(id)", "maxTokens": 300, "inputCostPer1kTokens": 3, "outputCostPer1kTokens": 15,
                 "providerSettings": \(settings)}
                """
            let created = try await client.call(.post, "/api/models", json: body)
            #expect(created.status == .created, "\(created.body)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func geminiAndClaudeAnswerChatCompletionsStreamedAndNot(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            try await Self.addClaude(client)
            for (model, publisher) in [(Self.gemini, "google"), (Self.claude, "anthropic")] {
                let plain = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false))
                #expect(plain.status == .ok, "\(plain.body)")
                #expect(try GatewayHarness.message(plain.body)["content"] as? String == "Echo from vertex: Hello there")
                let usage = try #require(try AnthropicMessagesTests.object(plain.body)["usage"] as? [String: Any])
                #expect(usage["prompt_tokens"] as? Int == 5 && usage["completion_tokens"] as? Int == 5)
                let sent = try #require(await fakes.recorder.last(provider: "vertex"))
                let body = try #require(sent.bodyObject)
                #expect(sent.headers["authorization"]?.hasPrefix("Bearer fake-vertex-token-") == true)
                if publisher == "google" {
                    #expect(sent.path == "\(Self.modelsPath)/google/models/fake-echo:generateContent")
                    #expect(body["contents"] != nil && body["model"] == nil)
                } else {
                    #expect(sent.path == "\(Self.modelsPath)/anthropic/models/claude-fake-echo:rawPredict")
                    #expect(body["model"] == nil && body["anthropic_version"] as? String == "vertex-2023-10-16")
                    #expect(body["system"] as? String == "You are terse." && body["max_tokens"] as? Int == 300)
                }

                let streamed = try await client.call(
                    .post, "/v1/chat/completions",
                    json: GatewayHarness.chatBody(model: model, stream: true, extra: #", "stream_options": {"include_usage": true}"#))
                #expect(streamed.status == .ok)
                let (events, done) = GatewayHarness.events(streamed.body)
                #expect(done && GatewayHarness.joinedText(events) == "Echo from vertex: Hello there")
                #expect((events.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)
                let streamPath = try #require(await fakes.recorder.last(provider: "vertex"))
                if publisher == "google" {
                    #expect(streamPath.path.hasSuffix("/google/models/fake-echo:streamGenerateContent") && streamPath.query == "alt=sse")
                } else {
                    #expect(streamPath.path.hasSuffix("/anthropic/models/claude-fake-echo:streamRawPredict"))
                    #expect(streamPath.bodyObject?["stream"] as? Bool == true)
                }
            }
            for model in [GatewayHarness.modelName(.vertex, "fake-tool"), Self.claudeTool] {
                let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false, tools: true))
                let call = try #require((try GatewayHarness.message(answer.body)["tool_calls"] as? [[String: Any]])?.first, "\(model): \(answer.body)")
                #expect((call["function"] as? [String: Any])?["name"] as? String == "get_weather")
                let streamed = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true, tools: true))
                let names = GatewayHarness.events(streamed.body).events.compactMap {
                    (((($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first?["function"]
                        as? [String: Any])?["name"] as? String
                }
                #expect(names == ["get_weather"], "\(model)")
            }
            // Eight calls, each recorded with Vertex as its provider and the tokens the fake reported.
            let rows = try await AnthropicMessagesTests.usageRows(components, count: 8)
            #expect(try rows.allSatisfy { try $0.decode(column: "provider", as: String.self) == "vertex" })
            #expect(try rows.prefix(4).map { try $0.decode(column: "prompt_tokens", as: Int.self) } == [5, 5, 5, 5])
            #expect(try rows.prefix(4).map { try $0.decode(column: "completion_tokens", as: Int.self) } == [5, 5, 5, 5])
        }
    }

    @Test(arguments: TestDatabase.available)
    func anthropicClientsReachClaudeRelayedAndGeminiTranslated(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            try await Self.addClaude(client)
            let relayed = try await client.call(
                .post, "/v1/messages", json: AnthropicMessagesTests.body(model: Self.claude, extra: #", "custom_field": {"kept": true}"#),
                headers: [AnthropicMessagesTests.beta: "prompt-caching-2024-07-31"])
            #expect(relayed.status == .ok, "\(relayed.body)")
            let answer = try AnthropicMessagesTests.object(relayed.body)
            #expect(answer["model"] as? String == Self.claude)
            #expect((answer["content"] as? [[String: Any]])?.first?["text"] as? String == "Echo from vertex: Hello there")
            let sent = try #require(await fakes.recorder.last(provider: "vertex"))
            #expect(sent.path == "\(Self.modelsPath)/anthropic/models/claude-fake-echo:rawPredict")
            #expect(sent.bodyObject?["model"] == nil && sent.bodyObject?["anthropic_version"] as? String == "vertex-2023-10-16")
            #expect((sent.bodyObject?["custom_field"] as? [String: Any])?["kept"] as? Bool == true)
            #expect(sent.headers["anthropic-beta"] == "prompt-caching-2024-07-31")

            let stream = try await client.call(.post, "/v1/messages", json: AnthropicMessagesTests.body(model: Self.claudeTool, stream: true, tools: true))
            let events = AnthropicMessagesTests.events(stream.body)
            #expect(events.first?.name == "message_start" && events.last?.name == "message_stop")
            #expect(AnthropicMessagesTests.streamedText(events).isEmpty && AnthropicMessagesTests.streamedToolInput(events) == #"{"city":"Paris"}"#)
            #expect(await fakes.recorder.last(provider: "vertex")?.path.hasSuffix("claude-fake-tool:streamRawPredict") == true)

            let translated = try await client.call(.post, "/v1/messages", json: AnthropicMessagesTests.body(model: Self.gemini))
            #expect(translated.status == .ok, "\(translated.body)")
            #expect((try AnthropicMessagesTests.object(translated.body)["content"] as? [[String: Any]])?.first?["text"] as? String == "Echo from vertex: Hello there")
            #expect(await fakes.recorder.last(provider: "vertex")?.path.hasSuffix("/google/models/fake-echo:generateContent") == true)

            let counted = try await client.call(.post, "/v1/messages/count_tokens", json: AnthropicMessagesTests.body(model: Self.claude))
            #expect(try AnthropicMessagesTests.object(counted.body)["input_tokens"] as? Int == 5, "\(counted.body)")
            #expect(await fakes.recorder.last(provider: "vertex")?.path == "\(Self.modelsPath)/anthropic/models/count-tokens:rawPredict")

            let rows = try await AnthropicMessagesTests.usageRows(components, count: 3)
            #expect(try rows.map { try $0.decode(column: "completion_tokens", as: Int.self) }.allSatisfy { $0 > 0 })
        }
    }

    @Test func theTokenIsCachedThenRefreshedOnceBeforeItExpires() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            // Twenty-second tokens: refreshed once half their life is gone (five minutes before expiry for real, hour-long ones).
            fakes.vertex.setTokenLifetime(seconds: 20)
            let started = ContinuousClock.now
            for _ in 0..<5 {
                let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: Self.gemini, stream: false))
                #expect(answer.status == .ok, "\(answer.body)")
            }
            #expect(fakes.vertex.tokenRequests == 1)
            try #require(ContinuousClock.now - started < .seconds(10), "the machine is too slow for this test's clock")
            try await Task.sleep(until: started + .seconds(10.5))
            // Eight calls at once, at refresh time but before the first token expires: one token request between them.
            try #require(ContinuousClock.now - started < .seconds(18), "the machine is too slow for this test's clock")
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: Self.gemini, stream: false))
                        return Int(answer.status.code)
                    }
                }
                for try await status in group { #expect(status == 200) }
            }
            #expect(fakes.vertex.tokenRequests == 2)
            let later = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: Self.gemini, stream: true))
            #expect(later.status == .ok)
            #expect(fakes.vertex.tokenRequests == 2)
            // No call ever reached the fake with an expired token.
            #expect(fakes.vertex.refusedBearers == 0)
        }
    }

    @Test(arguments: TestDatabase.available)
    func storedServiceAccountsServeTheirUsersAndAnUnknownKeyIsRefused(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, withEnvKeys: false) { client, fakes, components in
            let account = try #require(FakeServiceAccount.standard)
            let json = fakes.vertexServiceAccountJSON()
            let noKey = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: Self.gemini, stream: false))
            #expect(noKey.status.code >= 400 && noKey.body.contains("VERTEX_SERVICE_ACCOUNT_JSON"))

            // As a JSON object member, with a region of the key's own.
            let created = try await client.call(
                .post, "/api/api-keys", json: #"{"userId": "ana", "provider": "vertex", "region": "europe-west4", "serviceAccount": \#(json)}"#)
            #expect(created.status == .created, "\(created.body)")
            let key = try decodeJSON(APIKey.self, created.body)
            #expect(key.keyPrefix == account.clientEmail && key.isValid == true)
            let ana = try await client.call(
                .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: Self.gemini, stream: false), headers: [Self.xUserId: "ana"])
            #expect(ana.status == .ok, "\(ana.body)")
            #expect(await fakes.recorder.last(provider: "vertex")?.path.contains("/locations/europe-west4/") == true)

            // As text in apiKey, through the user's own endpoint.
            let user = try await VaultAPI.token(client, role: "user", userId: "bo")
            let textBody = try String(decoding: JSONSerialization.data(withJSONObject: ["apiKey": json, "project": "bo-project"]), as: UTF8.self)
            let put = try await client.call(.put, "/api/users/me/keys/vertex", token: user, json: textBody)
            #expect(put.status == .created, "\(put.body)")
            let bo = try await client.call(.post, "/v1/chat/completions", token: user, json: GatewayHarness.chatBody(model: Self.gemini, stream: false))
            #expect(bo.status == .ok, "\(bo.body)")
            #expect(await fakes.recorder.last(provider: "vertex")?.path.contains("/projects/bo-project/locations/us-central1/") == true)

            // An account whose key the token endpoint does not know: refused as a rejected key, nothing stored, nothing echoed.
            let intruder = try FakeServiceAccount(clientEmail: "intruder@fake-project.iam.gserviceaccount.com")
            let refused = try await client.call(
                .post, "/api/api-keys", json: #"{"userId": "cy", "provider": "vertex", "serviceAccount": \#(fakes.vertexServiceAccountJSON(intruder))}"#)
            #expect(refused.status == .unprocessableContent && refused.body.contains("key_rejected") && refused.body.contains("invalid_grant"), "\(refused.body)")
            for line in intruder.privateKeyLines { #expect(!refused.body.contains(line)) }
            #expect(try await components.vault.list(.init(owner: "cy")).isEmpty)

            // A broken file is a 400 naming the field.
            let broken = try await client.call(
                .post, "/api/api-keys", json: #"{"userId": "cy", "provider": "vertex", "serviceAccount": {"type": "service_account", "client_email": "a@b.c"}}"#)
            #expect(broken.status == .badRequest && broken.body.contains("serviceAccount: private_key: is required"), "\(broken.body)")
        }
    }

    @Test func theServerWideAccountMayComeFromGoogleApplicationCredentials() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vertex-gac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("service-account.json")
        try await GatewayHarness.run(withEnvKeys: false, fakeExtra: { fakes in
            try Data(fakes.vertexServiceAccountJSON().utf8).write(to: file)
            return ["GOOGLE_APPLICATION_CREDENTIALS": file.path]
        }) { client, fakes, _ in
            let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: Self.gemini, stream: false))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(fakes.vertex.tokensIssued == 1)
        }
    }
}
