import FakeProviders
import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// `top_k` from an Anthropic client reaches the upstreams that have it (Gemini, Ollama) and never
/// OpenAI-format ones, which refuse unknown fields.
@Suite struct AnthropicTopKTests {
    @Test func topKReachesGeminiAndOllamaButNotOpenAI() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            for provider in [ProviderKind.gemini, .ollama, .openai] {
                let answer = try await client.call(
                    .post, "/v1/messages", json: AnthropicMessagesTests.body(model: GatewayHarness.modelName(provider), extra: #", "top_k": 7"#))
                #expect(answer.status == .ok, "\(provider): \(answer.body)")
                let sent = try #require(await fakes.recorder.last(provider: provider.rawValue))
                let body = try #require(sent.bodyObject)
                switch provider {
                case .gemini: #expect((body["generationConfig"] as? [String: Any])?["topK"] as? Int == 7)
                case .ollama: #expect((body["options"] as? [String: Any])?["top_k"] as? Int == 7)
                default: #expect(!sent.bodyString.contains("top_k"))
                }
            }
            let bad = try await client.call(
                .post, "/v1/messages", json: AnthropicMessagesTests.body(model: GatewayHarness.modelName(.gemini), extra: #", "top_k": -1"#))
            #expect(bad.status == .badRequest)
            #expect(try AnthropicMessagesTests.anthropicError(bad.body).message.hasPrefix("top_k:"))
        }
    }

    @Test func anOpenAIClientsRequestNeverEncodesTopK() throws {
        var request = ChatCompletionRequest(model: "m", messages: [ChatMessage(role: .user, content: .text("hi"))])
        request.topK = 3
        let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        #expect(!json.contains("top_k"))
    }
}
