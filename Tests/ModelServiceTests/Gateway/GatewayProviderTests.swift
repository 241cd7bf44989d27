import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Each provider through the gateway over real HTTP, streamed and not: what the upstream
/// received (placement of the system message, max tokens, headers, key) and what the client got.
@Suite struct GatewayProviderTests {
    @Test(arguments: ProviderKind.allCases)
    func chatIsTranslatedBothWays(provider: ProviderKind) async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let model = GatewayHarness.modelName(provider)
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false))
            #expect(response.status == .ok, "\(response.body)")
            let message = try GatewayHarness.message(response.body)
            let echoName = provider.rawValue
            #expect(message["content"] as? String == "Echo from \(echoName): Hello there")
            #expect(message["role"] as? String == "assistant")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            let usage = try #require(object["usage"] as? [String: Any])
            // prompt = words of all messages ("You are terse." + "Hello there"), completion = words of the answer.
            #expect(usage["prompt_tokens"] as? Int == 5)
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(usage["total_tokens"] as? Int == 10)
            #expect((object["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "stop")

            let received = try #require(await fakes.recorder.last(provider: provider.rawValue))
            let body = try #require(received.bodyObject)
            let key = GatewayHarness.envKey(provider)
            switch provider {
            case .openai, .xai, .deepseek, .openaiCompatible:
                #expect(received.path.hasSuffix("/v1/chat/completions"))
                #expect(received.headers["authorization"] == "Bearer \(key)")
                #expect(body["model"] as? String == "fake-echo")
                #expect(body["max_tokens"] as? Int == 300)
                #expect(body["temperature"] as? Double == 0.5)
                #expect((body["messages"] as? [[String: Any]])?.first?["role"] as? String == "system")
            case .azure:
                #expect(received.path == "/azure/openai/deployments/fake-echo/chat/completions")
                #expect(received.query.contains("api-version="))
                #expect(received.headers["api-key"] == key)
                #expect(received.headers["authorization"] == nil)
                #expect(body["max_tokens"] as? Int == 300)
            case .anthropic:
                #expect(received.path == "/anthropic/v1/messages")
                #expect(received.headers["x-api-key"] == key)
                #expect(received.headers["anthropic-version"] != nil)
                #expect(body["system"] as? String == "You are terse.")
                #expect((body["messages"] as? [[String: Any]])?.allSatisfy { $0["role"] as? String != "system" } == true)
                #expect(body["max_tokens"] as? Int == 300)
                #expect(body["model"] as? String == "fake-echo")
            case .gemini:
                #expect(received.path == "/gemini/v1beta/models/fake-echo:generateContent")
                #expect(received.headers["x-goog-api-key"] == key)
                let instruction = try #require(body["systemInstruction"] as? [String: Any])
                #expect((instruction["parts"] as? [[String: Any]])?.first?["text"] as? String == "You are terse.")
                let config = try #require(body["generationConfig"] as? [String: Any])
                #expect(config["maxOutputTokens"] as? Int == 300)
                #expect((body["contents"] as? [[String: Any]])?.count == 1)
            case .bedrock:
                // The harness's environment key is a Bedrock API key: sent as a bearer token.
                #expect(received.path == "/bedrock/model/fake-echo/converse")
                #expect(received.headers["authorization"] == "Bearer \(key)")
                #expect(body["system"] as? [[String: String]] == [["text": "You are terse."]])
                #expect((body["inferenceConfig"] as? [String: Any])?["maxTokens"] as? Int == 300)
                #expect((body["messages"] as? [[String: Any]])?.count == 1 && body["model"] == nil)
            case .vertex:
                #expect(received.path == "/vertex/v1/projects/fake-project/locations/us-central1/publishers/google/models/fake-echo:generateContent")
                #expect(received.headers["authorization"]?.hasPrefix("Bearer fake-vertex-token-") == true)
                #expect(received.headers["x-goog-api-key"] == nil)
                let instruction = try #require(body["systemInstruction"] as? [String: Any])
                #expect((instruction["parts"] as? [[String: Any]])?.first?["text"] as? String == "You are terse.")
                #expect((body["generationConfig"] as? [String: Any])?["maxOutputTokens"] as? Int == 300)
            case .ollama:
                #expect(received.path == "/ollama/api/chat")
                #expect(received.headers["authorization"] == nil)
                #expect(body["stream"] as? Bool == false)
                #expect((body["options"] as? [String: Any])?["num_predict"] as? Int == 300)
            }
        }
    }

    @Test(arguments: ProviderKind.allCases)
    func streamPiecesJoinToTheNonStreamedText(provider: ProviderKind) async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let model = GatewayHarness.modelName(provider)
            let plain = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false))
            let text = try GatewayHarness.message(plain.body)["content"] as? String
            let streamed = try await client.call(
                .post, "/v1/chat/completions",
                json: GatewayHarness.chatBody(model: model, stream: true, extra: #", "stream_options": {"include_usage": true}"#))
            #expect(streamed.status == .ok)
            #expect(streamed.headers[.contentType] == "text/event-stream")
            let (events, done) = GatewayHarness.events(streamed.body)
            #expect(done)
            #expect(events.count >= 3)
            #expect(GatewayHarness.joinedText(events) == text)
            #expect(events.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let usage = try #require(events.last?["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 5)
            if provider == .gemini {
                #expect(await fakes.recorder.last(provider: "gemini")?.path == "/gemini/v1beta/models/fake-echo:streamGenerateContent")
            }
            if provider == .bedrock {
                #expect(await fakes.recorder.last(provider: "bedrock")?.path == "/bedrock/model/fake-echo/converse-stream")
            }
            // Without include_usage no usage chunk reaches the client (it is still recorded).
            let quiet = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true))
            #expect(GatewayHarness.events(quiet.body).events.allSatisfy { $0["usage"] == nil || $0["usage"] is NSNull })
        }
    }

    @Test(arguments: [ProviderKind.openai, .anthropic, .gemini, .bedrock])
    func toolCallsComeBackInOpenAIFormat(provider: ProviderKind) async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let model = GatewayHarness.modelName(provider, "fake-tool")
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false, tools: true))
            #expect(response.status == .ok, "\(response.body)")
            let message = try GatewayHarness.message(response.body)
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather")
            let arguments = try #require(function["arguments"] as? String)
            #expect(try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: String] == ["city": "Paris"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect((object["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "tool_calls")

            // The tool definition reached the upstream in its own format.
            let body = try #require(await fakes.recorder.last(provider: provider.rawValue)?.bodyObject)
            switch provider {
            case .anthropic: #expect((body["tools"] as? [[String: Any]])?.first?["input_schema"] != nil)
            case .gemini: #expect((body["tools"] as? [[String: Any]])?.first?["functionDeclarations"] != nil)
            case .bedrock: #expect((((body["toolConfig"] as? [String: Any])?["tools"] as? [[String: Any]])?.first?["toolSpec"] as? [String: Any])?["name"] as? String == "get_weather")
            default: #expect(((body["tools"] as? [[String: Any]])?.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")
            }

            let streamed = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true, tools: true))
            let deltas = GatewayHarness.events(streamed.body).events.compactMap {
                (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]]
            }.flatMap { $0 }
            let name = deltas.compactMap { ($0["function"] as? [String: Any])?["name"] as? String }.joined()
            let streamedArguments = deltas.compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }.joined()
            #expect(name == "get_weather")
            #expect(try JSONSerialization.jsonObject(with: Data(streamedArguments.utf8)) as? [String: String] == ["city": "Paris"])
        }
    }

    @Test func modelsListsActiveModelsInOpenAIFormat() async throws {
        try await GatewayHarness.run { client, _, _ in
            _ = try await client.call(.patch, "/api/models/\(GatewayHarness.modelName(.xai))", json: #"{"isActive": false}"#)
            let response = try await client.call(.get, "/v1/models")
            #expect(response.status == .ok)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect(object["object"] as? String == "list")
            let ids = (object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(ids.contains(GatewayHarness.modelName(.openai)))
            #expect(!ids.contains(GatewayHarness.modelName(.xai)))
            #expect(try await client.call(.get, "/v1/models", token: nil).status == .unauthorized)
        }
    }
}

/// The default output limit: `maxTokens`, or `providerSettings.maxOutputTokens` where smaller.
@Suite struct GatewayDefaultsTests {
    @Test func defaultMaxTokensNeverExceedsTheModelsOutputLimit() throws {
        let catalog = try CatalogSeeder.catalog()
        for entry in catalog where entry.provider.value != "ollama" && entry.mode.value != "embedding" {
            let output = try #require(entry.providerSettings.value?["maxOutputTokens"]?.intValue, "\(entry.name.value ?? "")")
            #expect(output <= (entry.maxTokens.value ?? .max))
        }
    }

    @Test func theRequestsOwnLimitWinsElseTheSmallerModelLimit() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            _ = try await client.call(.patch, "/api/models/\(GatewayHarness.modelName(.openai))", json: #"{"providerSettings": {"maxOutputTokens": 100}}"#)
            _ = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false))
            #expect(await fakes.recorder.last(provider: "openai")?.bodyObject?["max_tokens"] as? Int == 100)
            _ = try await client.call(
                .post, "/v1/chat/completions",
                json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false, extra: #", "max_tokens": 7, "temperature": 1.25"#))
            let body = await fakes.recorder.last(provider: "openai")?.bodyObject
            #expect(body?["max_tokens"] as? Int == 7)
            #expect(body?["temperature"] as? Double == 1.25)
        }
    }
}
