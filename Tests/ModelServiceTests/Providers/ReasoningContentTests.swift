import Foundation
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Anthropic thinking blocks and Gemini thought parts come back as `reasoning_content`, apart from the answer.
@Suite struct ReasoningContentTests {
    @Test(arguments: [
        ("anthropic", #"{"id":"m","model":"c","content":[{"type":"thinking","thinking":"Let me add.","signature":"s"},{"type":"text","text":"4"}],"stop_reason":"end_turn"}"#),
        ("gemini", #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Let me add.","thought":true},{"text":"4"}]},"finishReason":"STOP"}]}"#),
    ])
    func thinkingIsReasoningContent(provider: String, json: String) throws {
        let buffer = ByteBuffer(string: json)
        let response = provider == "anthropic"
            ? AnthropicTranslator.response(from: try ProviderJSON.decode(AnthropicMessage.self, from: buffer))
            : GeminiTranslator.response(from: try ProviderJSON.decode(GeminiResponse.self, from: buffer), model: "g")
        let message = try #require(response.choices.first?.message)
        #expect(message.content?.text == "4")
        #expect(message.reasoningContent == "Let me add.")
        let encoded = String(decoding: try ProviderJSON.encode(message), as: UTF8.self)
        #expect(encoded.contains(#""reasoning_content":"Let me add.""#))
    }
}
