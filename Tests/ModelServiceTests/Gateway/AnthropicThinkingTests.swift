import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// Reasoning from providers other than Anthropic (DeepSeek's `reasoning_content`, Gemini's thoughts)
/// reaches an Anthropic client as `thinking` blocks and `thinking_delta` events.
@Suite struct AnthropicThinkingTests {
    @Test func reasoningBecomesAThinkingBlockBeforeTheText() throws {
        var reply = ChatMessage(role: .assistant, content: .text("42."))
        reply.reasoningContent = "Six times seven."
        let response = ChatCompletionResponse(
            id: "c", model: "deepseek-reasoner", choices: [.init(index: 0, message: reply, finishReason: "stop")],
            usage: Usage(promptTokens: 3, completionTokens: 5))
        let content = try #require(AnthropicResponseTranslator.message(from: response, model: "deepseek/r1")["content"]?.arrayValue)
        #expect(content.count == 2)
        #expect(content[0] == .object(["type": .string("thinking"), "thinking": .string("Six times seven."), "signature": .string("")]))
        #expect(content[1] == .object(["type": .string("text"), "text": .string("42.")]))
    }

    @Test func noReasoningNoThinkingBlock() throws {
        let response = ChatCompletionResponse(
            id: "c", model: "m", choices: [.init(index: 0, message: ChatMessage(role: .assistant, content: .text("hi")), finishReason: "stop")],
            usage: nil)
        let content = try #require(AnthropicResponseTranslator.message(from: response, model: "x/m")["content"]?.arrayValue)
        #expect(content.map { $0["type"] } == [.string("text")])
    }

    @Test func reasoningDeltasStreamAsAThinkingBlockThenText() throws {
        var translator = AnthropicStreamTranslator(model: "gemini/x", id: "msg_t")
        let builder = ChunkBuilder(model: "up")
        var frames = translator.start()
        frames += translator.translate(builder.roleChunk())
        frames += translator.translate(builder.delta(.init(reasoningContent: "Think")))
        frames += translator.translate(builder.delta(.init(reasoningContent: "ing.")))
        frames += translator.translate(builder.text("Done"))
        frames += translator.translate(builder.finish("stop"))
        frames += translator.finish(usage: Usage(promptTokens: 1, completionTokens: 2))
        let events = try AnthropicTranslatorsTests.events(frames)
        #expect(
            events.map { $0.0 } == [
                "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
            ])
        #expect(events[1].1["content_block"] == .object(["type": .string("thinking"), "thinking": .string(""), "signature": .string("")]))
        #expect(events[2].1["delta"] == .object(["type": .string("thinking_delta"), "thinking": .string("Think")]))
        #expect(events[3].1["delta"]?["thinking"] == .string("ing."))
        #expect(events[5].1["index"] == .number(1))
        #expect(events[5].1["content_block"]?["type"] == .string("text"))
        #expect(events[6].1["delta"] == .object(["type": .string("text_delta"), "text": .string("Done")]))
    }

    @Test func anOpenAIFormatChunkCarriesReasoningContent() throws {
        let json =
            #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"reasoning_content":"Hm"}}]}"#
        let chunk = try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(json.utf8))
        #expect(chunk.choices.first?.delta.reasoningContent == "Hm")
        // Encoded back only when present: a chunk without reasoning keeps its old shape.
        let plain = String(decoding: try JSONEncoder().encode(ChatCompletionChunk.Delta(content: "x")), as: UTF8.self)
        #expect(!plain.contains("reasoning_content"))
    }

    @Test func geminiThoughtsReachAnAnthropicClientStreamedAndNot() async throws {
        try await GatewayHarness.run { client, _, _ in
            let model = GatewayHarness.modelName(.gemini, "fake-think")
            let created = try await client.call(
                .post, "/api/models",
                json:
                    #"{"name": "\#(model)", "provider": "gemini", "modelId": "fake-think", "maxTokens": 300, "inputCostPer1kTokens": 1, "outputCostPer1kTokens": 1}"#
            )
            #expect(created.status == .created, "\(created.body)")

            let plain = try await client.call(.post, "/v1/messages", json: AnthropicMessagesTests.body(model: model))
            #expect(plain.status == .ok, "\(plain.body)")
            let content = try #require(try AnthropicMessagesTests.object(plain.body)["content"] as? [[String: Any]])
            #expect(content.first?["type"] as? String == "thinking")
            #expect(content.first?["thinking"] as? String == "Thinking it over.")
            #expect(content.last?["type"] as? String == "text")

            let streamed = try await client.call(.post, "/v1/messages", json: AnthropicMessagesTests.body(model: model, stream: true))
            #expect(streamed.status == .ok)
            let events = AnthropicMessagesTests.events(streamed.body)
            let thinking = events.compactMap { event -> String? in
                guard let delta = event.data["delta"] as? [String: Any], delta["type"] as? String == "thinking_delta" else { return nil }
                return delta["thinking"] as? String
            }
            #expect(thinking.joined() == "Thinking it over.")
            #expect(AnthropicMessagesTests.streamedText(events).hasPrefix("Echo from gemini"))
        }
    }
}
