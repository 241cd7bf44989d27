import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The pure parts of the `/v1/messages` door: request → canonical, canonical → message and events,
/// the relay's byte edits and event pass-through, error types and the token estimate.
@Suite struct AnthropicTranslatorsTests {
    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func translate(_ text: String) throws -> ChatCompletionRequest {
        try AnthropicRequestTranslator.request(from: json(text))
    }

    // MARK: Request → canonical

    @Test func systemStringAndBlocksBecomeOneSystemMessage() throws {
        for system in [#""Be brief.""#, #"[{"type":"text","text":"Be"},{"type":"text","text":"brief."}]"#] {
            let request = try Self.translate(#"{"model":"m","max_tokens":10,"system":\#(system),"messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(request.messages.first?.role == .system)
            #expect(request.messages.first?.content?.text.replacingOccurrences(of: "\n\n", with: " ") == "Be brief.")
            #expect(request.messages.last == ChatMessage.text(.user, "Hi"))
            #expect(request.maxTokens == 10)
        }
    }

    @Test func scalarFieldsMapToTheirCanonicalNames() throws {
        let request = try Self.translate(
            """
            {"model":"m","max_tokens":7,"temperature":0.2,"top_p":0.9,"top_k":5,"stop_sequences":["END"],"stream":true,
             "metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":"Hi"}]}
            """)
        #expect(request.model == "m")
        #expect(request.temperature == 0.2)
        #expect(request.topP == 0.9)
        #expect(request.stop == ["END"])
        #expect(request.isStreaming)
        #expect(request.user == "u-1")
    }

    @Test func imagesToolsAndToolResultsTranslate() throws {
        let request = try Self.translate(
            """
            {"model":"m","messages":[
              {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA"}}]},
              {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Calling"},
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"Sunny"}]},{"type":"text","text":"And?"}]}
            ],
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
             "tool_choice":{"type":"tool","name":"get_weather"}}
            """)
        #expect(request.messages.count == 4)
        #expect(request.messages[0].content == .parts([.text("Look"), .imageURL(url: "data:image/png;base64,AAA", detail: nil)]))
        #expect(request.messages[1].role == .assistant)
        #expect(request.messages[1].content == .text("Calling"))
        #expect(request.messages[1].toolCalls == [ChatToolCall(id: "toolu_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        #expect(request.messages[2] == ChatMessage(role: .tool, content: .text("Sunny"), toolCallId: "toolu_1"))
        #expect(request.messages[3] == ChatMessage.text(.user, "And?"))
        #expect(request.tools?.first?.function.name == "get_weather")
        #expect(request.tools?.first?.function.parameters?["type"] == .string("object"))
        #expect(request.toolChoice == .object(["type": .string("function"), "function": .object(["name": .string("get_weather")])]))
    }

    @Test(arguments: [
        (#"{"type":"auto"}"#, JSONValue.string("auto")),
        (#"{"type":"any"}"#, JSONValue.string("required")),
        (#"{"type":"none"}"#, JSONValue.string("none")),
    ])
    func toolChoiceTypes(choice: String, expected: JSONValue) throws {
        let request = try Self.translate(#"{"model":"m","tool_choice":\#(choice),"messages":[{"role":"user","content":"x"}]}"#)
        #expect(request.toolChoice == expected)
    }

    @Test(arguments: [
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        (#"{"model":"m","messages":[]}"#, "messages"),
        (#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","max_tokens":"lots","messages":[{"role":"user","content":"x"}]}"#, "max_tokens"),
        (
            #"{"model":"m","tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"x"}]}"#,
            "tools[0].input_schema"
        ),
        (#"{"model":"m","tool_choice":{"type":"tool"},"messages":[{"role":"user","content":"x"}]}"#, "tool_choice.name"),
    ])
    func badRequestsNameTheField(body: String, field: String) throws {
        let error = #expect(throws: ServiceError.self) { _ = try Self.translate(body) }
        #expect(error?.status == 400)
        #expect(error?.message.hasPrefix(field + ":") == true, "\(error?.message ?? "")")
    }

    // MARK: Canonical → message

    @Test(
        arguments: [("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"), ("content_filter", "refusal"), (nil, "end_turn")]
            as [(String?, String)])
    func stopReasons(finish: String?, expected: String) {
        #expect(AnthropicResponseTranslator.stopReason(finish) == expected)
    }

    @Test func messageCarriesTextToolUseUsageAndTheRegistryName() throws {
        let reply = ChatMessage(
            role: .assistant, content: .text("Let me look."),
            toolCalls: [ChatToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        let response = ChatCompletionResponse(
            id: "chatcmpl-1", model: "gpt-x", choices: [.init(index: 0, message: reply, finishReason: "tool_calls")],
            usage: Usage(promptTokens: 11, completionTokens: 4))
        let message = AnthropicResponseTranslator.message(from: response, model: "openai/gpt-x", id: "msg_1")
        #expect(message["id"] == .string("msg_1"))
        #expect(message["type"] == .string("message"))
        #expect(message["model"] == .string("openai/gpt-x"))
        #expect(message["stop_reason"] == .string("tool_use"))
        #expect(message["usage"] == .object(["input_tokens": .number(11), "output_tokens": .number(4)]))
        let content = try #require(message["content"]?.arrayValue)
        #expect(content.count == 2)
        #expect(content[0] == .object(["type": .string("text"), "text": .string("Let me look.")]))
        #expect(content[1]["type"] == .string("tool_use"))
        #expect(content[1]["input"] == .object(["city": .string("Paris")]))
    }

    // MARK: Canonical chunks → events

    /// Each frame's event name and decoded data.
    static func events(_ frames: [ByteBuffer]) throws -> [(String, JSONValue)] {
        try frames.map { frame in
            let text = String(buffer: frame)
            let lines = text.split(separator: "\n")
            let name = try #require(lines.first { $0.hasPrefix("event: ") }).dropFirst(7)
            let data = try #require(lines.first { $0.hasPrefix("data: ") }).dropFirst(6)
            #expect(text.hasSuffix("\n\n"))
            return (String(name), try json(String(data)))
        }
    }

    @Test func chunksBecomeBlocksDeltasAndAClosingMessageDelta() throws {
        var translator = AnthropicStreamTranslator(model: "gemini/x", id: "msg_s")
        let builder = ChunkBuilder(model: "up")
        var frames = translator.start()
        frames += translator.translate(builder.roleChunk())
        frames += translator.translate(builder.text("Hel"))
        frames += translator.translate(builder.text("lo"))
        frames += translator.translate(builder.delta(.init(toolCalls: [.init(index: 0, id: "call_9", name: "get_weather", arguments: "")])))
        frames += translator.translate(builder.delta(.init(toolCalls: [.init(index: 0, arguments: #"{"city":"#)])))
        frames += translator.translate(builder.delta(.init(toolCalls: [.init(index: 0, arguments: #""Paris"}"#)])))
        frames += translator.translate(builder.finish("tool_calls"))
        frames += translator.finish(usage: Usage(promptTokens: 3, completionTokens: 2))
        let events = try Self.events(frames)
        #expect(
            events.map { $0.0 } == [
                "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
            ])
        #expect(events.allSatisfy { $0.1["type"] == .string($0.0) })
        #expect(events[0].1["message"]?["model"] == .string("gemini/x"))
        #expect(events[0].1["message"]?["id"] == .string("msg_s"))
        #expect(events[1].1["content_block"]?["type"] == .string("text"))
        #expect(events[2].1["delta"] == .object(["type": .string("text_delta"), "text": .string("Hel")]))
        #expect(events[5].1["index"] == .number(1))
        #expect(events[5].1["content_block"]?["name"] == .string("get_weather"))
        #expect(events[5].1["content_block"]?["id"] == .string("call_9"))
        let json = events[6...7].compactMap { $0.1["delta"]?["partial_json"]?.stringValue }.joined()
        #expect(json == #"{"city":"Paris"}"#)
        #expect(events[9].1["delta"]?["stop_reason"] == .string("tool_use"))
        #expect(events[9].1["usage"] == .object(["input_tokens": .number(3), "output_tokens": .number(2)]))
    }

    // MARK: Relay

    static func model(_ settings: String = "{}") throws -> Model {
        let json = """
            {"id": "m1", "name": "anthropic/claude", "provider": "anthropic", "modelId": "claude-up", "maxTokens": 300,
             "supportsStreaming": true, "defaultTemperature": 0.5, "inputCostPer1kTokens": 0, "outputCostPer1kTokens": 0,
             "providerSettings": \(settings), "isActive": true, "isDefault": false, "metadata": {}, "createdAt": "", "updatedAt": ""}
            """
        return try JSONDecoder().decode(Model.self, from: Data(json.utf8))
    }

    /// The relayed body: the registry's defaults added where absent (``ChatDefaults``), then `model` replaced (the adapter).
    static func relayBody(_ sent: String, target: UpstreamTarget, model: Model) throws -> ByteBuffer {
        guard var editor = JSONObjectEditor(ByteBuffer(string: sent)) else { throw ProviderError.invalidRequest("the body must be a JSON object") }
        ChatDefaults.apply(toAnthropicJSON: &editor, model: model)
        return try target.relayedBody(editor.result())
    }

    @Test func relayEditsOnlyTheModelAndAppendsMissingDefaults() throws {
        let target = UpstreamTarget(provider: .anthropic, upstreamModel: "claude-up", baseURL: "http://x", apiKey: nil)
        let sent = #"{ "z_first": [1, {"model": "inner"}], "model" : "anthropic/claude", "x": 1.50, "s": "a\"b" }"#
        let body = try Self.relayBody(sent, target: target, model: Self.model())
        #expect(
            String(buffer: body)
                == #"{"z_first": [1, {"model": "inner"}],"model" : "claude-up","x": 1.50,"s": "a\"b","max_tokens":300,"temperature":0.5}"#)
        // The client's own values win; no temperature beside thinking or top_p, or where the model says not to send one.
        let own = #"{"model":"anthropic/claude","max_tokens":7,"thinking":{"type":"enabled","budget_tokens":1024}}"#
        let kept = try Self.relayBody(own, target: target, model: Self.model())
        #expect(String(buffer: kept) == #"{"model":"claude-up","max_tokens":7,"thinking":{"type":"enabled","budget_tokens":1024}}"#)
        let quiet = try Self.relayBody(#"{"model":"a","max_tokens":7}"#, target: target, model: Self.model(#"{"sendDefaultTemperature": false}"#))
        #expect(String(buffer: quiet) == #"{"model":"claude-up","max_tokens":7}"#)
        #expect(throws: ProviderError.self) {
            try target.relayedBody(ByteBuffer(string: "[1]"))
        }
    }

    @Test func relayedAnswerHasTheRegistryModelAndItsUsage() throws {
        let answer =
            #"{"id":"msg_u","model":"claude-up","content":[],"usage":{"input_tokens":9,"cache_creation_input_tokens":1,"output_tokens":4},"z":1}"#
        let (out, usage) = try AnthropicMessagesCodec.relayedAnswer(ByteBuffer(string: answer), model: "anthropic/claude")
        #expect(
            String(buffer: out)
                == #"{"id":"msg_u","model":"anthropic/claude","content":[],"usage":{"input_tokens":9,"cache_creation_input_tokens":1,"output_tokens":4},"z":1}"#
        )
        #expect(usage?.promptTokens == 10)
        #expect(usage?.completionTokens == 4)
    }

    @Test func relayedEventsKeepTheirBytesPatchTheModelAndReadUsage() throws {
        var relay = AnthropicRelayEvents(model: "anthropic/claude")
        let upstream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_u","model":"claude-up","content":[],"usage":{"input_tokens":9,"cache_read_input_tokens":2,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"},"extra_field":true}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}

            event: message_stop
            data: {"type":"message_stop"}


            """
        var frames: [ByteBuffer] = []
        // Split mid-event: the relay must reassemble.
        let bytes = Array(upstream.utf8)
        frames += try relay.push(ByteBuffer(bytes: bytes[..<50]))
        frames += try relay.push(ByteBuffer(bytes: bytes[50...]))
        frames += relay.finish()
        let text = frames.map { String(buffer: $0) }.joined()
        #expect(text.contains(#""model":"anthropic/claude""#))
        #expect(!text.contains("claude-up"))
        #expect(text.contains(#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"},"extra_field":true}"#))
        #expect(relay.stopped)
        #expect(relay.recordedUsage == Usage(promptTokens: 11, completionTokens: 6, cachedTokens: 2))
    }

    // MARK: Errors and estimates

    @Test func errorBodyIsAnthropicsShape() throws {
        let body = try Self.json(
            String(buffer: WireError.json(.invalidField("max_tokens", "must be a positive integer"), shape: .anthropic)))
        #expect(
            body
                == .object([
                    "type": .string("error"),
                    "error": .object(["type": .string("invalid_request_error"), "message": .string("max_tokens: must be a positive integer")]),
                ]))
    }

    @Test func estimateCountsAboutFourCharactersPerToken() throws {
        let body = try Self.json(#"{"model":"m","system":"12345678","messages":[{"role":"user","content":[{"type":"text","text":"1234"}]}]}"#)
        #expect(AnthropicTokenEstimate.inputTokens(body) == 3)
        let withTools = try Self.json(#"{"model":"m","messages":[{"role":"user","content":"1234"}],"tools":[{"name":"abcd","input_schema":{}}]}"#)
        #expect(AnthropicTokenEstimate.inputTokens(withTools) == 3)  // 4 + 4 + "{}" = 10 characters
    }
}
