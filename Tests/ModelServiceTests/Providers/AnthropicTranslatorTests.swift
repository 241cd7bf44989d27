import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct AnthropicTranslatorTests {
    let target = UpstreamTarget(provider: .anthropic, upstreamModel: "claude-x", baseURL: "http://h", apiKey: Secret("ak-1"))

    @Test func systemMaxTokensStopAndSampling() throws {
        let request = try decodeRequest(sampleRequestJSON)
        let body = try AnthropicTranslator.body(for: request, target: target, streaming: true)
        #expect(body["model"] == .string("claude-x"))
        #expect(body["system"] == .string("Be brief.\n\nAnswer in English."))
        #expect(body["max_tokens"] == .number(100))
        #expect(body["stop_sequences"] == .array([.string("END")]))
        #expect(body["temperature"] == .number(0.5))
        #expect(body["top_p"] == .number(0.9))
        #expect(body["stream"] == .bool(true))
        #expect(body["messages"] == .array([.object(["role": .string("user"), "content": .string("Hello?")])]))

        let bare = try AnthropicTranslator.body(for: decodeRequest(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":7,"max_tokens":9}"#), target: target, streaming: false)
        #expect(bare["max_tokens"] == .number(7))
        #expect(bare["system"] == nil)
        #expect(bare["stream"] == nil)
        let defaulted = try AnthropicTranslator.body(for: decodeRequest(#"{"model":"m","messages":[]}"#), target: target, streaming: false)
        #expect(defaulted["max_tokens"] == .number(4096))
    }

    @Test func headersAndURL() {
        let headers = Dictionary(uniqueKeysWithValues: AnthropicAdapter().headers(for: target))
        #expect(headers["x-api-key"] == "ak-1")
        #expect(headers["anthropic-version"] == "2023-06-01")
        #expect(target.url("/v1/messages") == "http://h/v1/messages")
    }

    @Test func toolsToolUseAndMergedToolResults() throws {
        let body = try AnthropicTranslator.body(for: decodeRequest(toolConversationJSON), target: target, streaming: false)
        let tool = body["tools"]?.arrayValue?.first
        #expect(tool?["name"] == .string("get_weather"))
        #expect(tool?["input_schema"]?["required"] == .array([.string("city")]))
        #expect(body["tool_choice"] == .object(["type": .string("tool"), "name": .string("get_weather")]))

        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"] } == [.string("user"), .string("assistant"), .string("user"), .string("user")])
        let toolUse = messages[1]["content"]?.arrayValue?.first
        #expect(toolUse?["type"] == .string("tool_use"))
        #expect(toolUse?["id"] == .string("call_a"))
        #expect(toolUse?["input"] == .object(["city": .string("Paris")]))
        let results = try #require(messages[2]["content"]?.arrayValue)
        #expect(results.count == 2)
        #expect(results.map { $0["tool_use_id"] } == [.string("call_a"), .string("call_b")])
        #expect(results[1]["content"] == .string("noon"))
    }

    @Test func toolChoiceMapping() throws {
        func choice(_ value: String) throws -> JSONValue {
            let request = try decodeRequest(
                #"{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":\#(value)}"#
            )
            return try AnthropicTranslator.body(for: request, target: target, streaming: false)
        }
        #expect(try choice(#""auto""#)["tool_choice"] == .object(["type": .string("auto")]))
        #expect(try choice(#""required""#)["tool_choice"] == .object(["type": .string("any")]))
        let none = try choice(#""none""#)
        #expect(none["tools"] == nil && none["tool_choice"] == nil)
    }

    @Test func images() throws {
        let request = try decodeRequest(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"image_url","image_url":{"url":"https://x/cat.jpg"}},{"type":"text","text":"?"}]}]}"#
        )
        let content = try #require(AnthropicTranslator.body(for: request, target: target, streaming: false)["messages"]?.arrayValue?.first?["content"]?.arrayValue)
        #expect(content[0]["source"] == .object(["type": .string("base64"), "media_type": .string("image/png"), "data": .string("AAAA")]))
        #expect(content[1]["source"] == .object(["type": .string("url"), "url": .string("https://x/cat.jpg")]))
        #expect(content[2] == .object(["type": .string("text"), "text": .string("?")]))
    }

    static let textAnswer = """
        {"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hello"},{"type":"text","text":" there"}],
        "stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":4}}
        """

    @Test func responseTextFinishAndUsage() throws {
        let message = try ProviderJSON.decodeUpstream(AnthropicMessage.self, from: buffer(Self.textAnswer))
        let response = AnthropicTranslator.response(from: message)
        #expect(response.id == "msg_1")
        #expect(response.choices[0].message.content == .text("Hello there"))
        #expect(response.choices[0].finishReason == "length")
        #expect(response.usage == Usage(promptTokens: 12, completionTokens: 4, totalTokens: 16))
    }

    @Test func responseToolUse() throws {
        let answer = """
            {"id":"msg_2","model":"claude-x","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],
            "stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}
            """
        let response = AnthropicTranslator.response(from: try ProviderJSON.decodeUpstream(AnthropicMessage.self, from: buffer(answer)))
        let call = try #require(response.choices[0].message.toolCalls?.first)
        #expect(call.id == "toolu_1")
        #expect(call.function.name == "get_weather")
        #expect(try JSONValue(jsonText: call.function.arguments) == .object(["city": .string("Paris")]))
        #expect(response.choices[0].finishReason == "tool_calls")
    }

    static let textStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":12,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":4}}

        event: message_stop
        data: {"type":"message_stop"}


        """

    @Test func streamJoinsToTheSameTextWithUsage() throws {
        let (chunks, usage) = try decodeInPieces(AnthropicStreamDecoder(model: "m", forwardUsage: true, apiKey: nil), Self.textStream, pieceSize: 9)
        let response = AnthropicTranslator.response(from: try ProviderJSON.decodeUpstream(AnthropicMessage.self, from: buffer(Self.textAnswer)))
        #expect(joinedContent(chunks) == response.choices[0].message.content?.text)
        #expect(chunks.first?.choices.first?.delta.role == .assistant)
        #expect(chunks.first?.id == "msg_1")
        #expect(finishReason(chunks) == "length")
        #expect(usage == Usage(promptTokens: 12, completionTokens: 4))
        #expect(chunks.last?.usage == usage)
        #expect(chunks.last?.choices.isEmpty == true)
    }

    @Test func streamToolUse() throws {
        let text = """
            data: {"type":"message_start","message":{"id":"msg_3","model":"claude-x","content":[],"usage":{"input_tokens":5,"output_tokens":0}}}

            data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}}

            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": "}}

            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\\"Paris\\"}"}}

            data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}

            data: {"type":"message_stop"}

            """
        let (chunks, usage) = try decodeInPieces(AnthropicStreamDecoder(model: "m", forwardUsage: false, apiKey: nil), text)
        let calls = chunks.flatMap(\.choices).compactMap(\.delta.toolCalls).flatMap { $0 }
        #expect(calls.first?.id == "toolu_9")
        #expect(calls.first?.function?.name == "get_weather")
        #expect(calls.allSatisfy { $0.index == 0 })
        #expect(calls.compactMap(\.function?.arguments).joined() == #"{"city": "Paris"}"#)
        #expect(finishReason(chunks) == "tool_calls")
        #expect(usage == Usage(promptTokens: 5, completionTokens: 9))
        #expect(chunks.allSatisfy { $0.usage == nil })
    }

    @Test func streamErrorEventAndTruncation() {
        let error = """
            data: {"type":"message_start","message":{"id":"m","content":[],"usage":{"input_tokens":1}}}

            event: error
            data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}

            """
        let thrown = #expect(throws: ProviderError.self) {
            try decodeInPieces(AnthropicStreamDecoder(model: "m", forwardUsage: false, apiKey: nil), error)
        }
        #expect(thrown?.message == "Overloaded")
        #expect(thrown?.gatewayStatus == 502)
        let cut = String(Self.textStream.prefix(600))
        #expect(throws: ProviderError.self) {
            try decodeInPieces(AnthropicStreamDecoder(model: "m", forwardUsage: false, apiKey: nil), cut)
        }
    }
}
