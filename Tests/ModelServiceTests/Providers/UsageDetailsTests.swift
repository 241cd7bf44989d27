import Foundation
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Cached, cache-written and reasoning tokens, read from each provider's usage and written in OpenAI's shape.
@Suite struct UsageDetailsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var provider: String
        var json: String
        var expected: Usage
        var testDescription: String { provider }
    }

    static let cases: [Case] = [
        Case(provider: "openai", json: #"{"id":"c","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":3}}}"#,
             expected: Usage(promptTokens: 10, completionTokens: 7, cachedTokens: 4, reasoningTokens: 3)),
        Case(provider: "anthropic", json: #"{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":2,"cache_read_input_tokens":100,"cache_creation_input_tokens":20}}"#,
             expected: Usage(promptTokens: 125, completionTokens: 2, cachedTokens: 100, cacheWriteTokens: 20)),
        Case(provider: "anthropic", json: #"{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":2,"cache_read_input_tokens":100,"cache_creation_input_tokens":50,"cache_creation":{"ephemeral_5m_input_tokens":20,"ephemeral_1h_input_tokens":30}}}"#,
             expected: Usage(promptTokens: 155, completionTokens: 2, cachedTokens: 100, cacheWriteTokens: 20, cacheWrite1hTokens: 30)),
        Case(provider: "deepseek", json: #"{"id":"c","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17,"prompt_cache_hit_tokens":6,"prompt_cache_miss_tokens":4}}"#,
             expected: Usage(promptTokens: 10, completionTokens: 7, cachedTokens: 6)),
        Case(provider: "gemini", json: #"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":5,"thoughtsTokenCount":12,"cachedContentTokenCount":8,"totalTokenCount":47}}"#,
             expected: Usage(promptTokens: 30, completionTokens: 17, totalTokens: 47, cachedTokens: 8, reasoningTokens: 12)),
    ]

    @Test(arguments: cases)
    func readFromEachProvider(_ example: Case) throws {
        let buffer = ByteBuffer(string: example.json)
        let usage: Usage?
        switch example.provider {
        case "openai", "deepseek": usage = try ProviderJSON.decode(ChatCompletionResponse.self, from: buffer).usage
        case "anthropic": usage = AnthropicTranslator.response(from: try ProviderJSON.decode(AnthropicMessage.self, from: buffer)).usage
        default: usage = GeminiTranslator.response(from: try ProviderJSON.decode(GeminiResponse.self, from: buffer), model: "g").usage
        }
        #expect(usage == example.expected)
    }

    @Test func writtenAsOpenAIDetailsOnlyWhenKnown() throws {
        let full = String(decoding: try ProviderJSON.encode(Usage(promptTokens: 3, completionTokens: 2, cachedTokens: 1, reasoningTokens: 1)), as: UTF8.self)
        #expect(full.contains(#""prompt_tokens_details":{"cached_tokens":1}"#) && full.contains(#""completion_tokens_details":{"reasoning_tokens":1}"#))
        let plain = String(decoding: try ProviderJSON.encode(Usage(promptTokens: 3, completionTokens: 2)), as: UTF8.self)
        #expect(!plain.contains("details"))
    }
}
