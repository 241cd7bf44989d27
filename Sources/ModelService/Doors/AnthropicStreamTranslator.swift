import Foundation
import NIOCore
import ModelServiceCore

/// Canonical chunks → Anthropic stream events (`message_start`, `content_block_*`, `message_delta`,
/// `message_stop`), for models whose provider does not speak Anthropic's format. Pure and stateful:
/// one per stream.
package struct AnthropicStreamTranslator: Sendable {
    package let id: String
    package let model: String
    private var nextBlock = 0
    private var openBlock: Int?
    private var openBlockIsText = false
    private var openBlockIsThinking = false
    /// OpenAI tool-call index → Anthropic content-block index.
    private var blockByToolIndex: [Int: Int] = [:]
    private var stopReason = "end_turn"

    package init(model: String, id: String = AnthropicResponseTranslator.makeMessageID()) {
        self.id = id
        self.model = model
    }

    /// `message_start`: sent once the upstream has accepted the call; input tokens are known only at the end.
    package func start() -> [ByteBuffer] {
        let message: JSONValue = .object([
            "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
            "content": .array([]), "stop_reason": .null, "stop_sequence": .null,
            "usage": AnthropicResponseTranslator.usage(nil),
        ])
        return [Self.event("message_start", ["message": message])]
    }

    package mutating func translate(_ chunk: ChatCompletionChunk) -> [ByteBuffer] {
        var events: [ByteBuffer] = []
        for choice in chunk.choices where choice.index == 0 {
            if let thinking = choice.delta.reasoningContent, !thinking.isEmpty {
                if openBlock == nil || !openBlockIsThinking {
                    events += openNewBlock(AnthropicResponseTranslator.thinkingBlock(""), isText: false, isThinking: true)
                }
                events.append(delta(["type": .string("thinking_delta"), "thinking": .string(thinking)], block: openBlock ?? 0))
            }
            if let text = choice.delta.content, !text.isEmpty {
                if openBlock == nil || !openBlockIsText {
                    events += openNewBlock(.object(["type": .string("text"), "text": .string("")]), isText: true)
                }
                events.append(delta(["type": .string("text_delta"), "text": .string(text)], block: openBlock ?? 0))
            }
            for call in choice.delta.toolCalls ?? [] {
                if blockByToolIndex[call.index] == nil {
                    let block = AnthropicResponseTranslator.toolUse(
                        id: call.id ?? "toolu_\(call.index)", name: call.function?.name ?? "", input: .object([:]))
                    events += openNewBlock(block, isText: false)
                    blockByToolIndex[call.index] = openBlock
                }
                if let arguments = call.function?.arguments, !arguments.isEmpty, let block = blockByToolIndex[call.index] {
                    events.append(delta(["type": .string("input_json_delta"), "partial_json": .string(arguments)], block: block))
                }
            }
            if let reason = choice.finishReason { stopReason = AnthropicResponseTranslator.stopReason(reason) }
        }
        return events
    }

    /// Closes the open block, then `message_delta` with the stop reason and usage, then `message_stop`.
    package mutating func finish(usage: Usage?) -> [ByteBuffer] {
        var events = closeOpenBlock()
        events.append(
            Self.event(
                "message_delta",
                [
                    "delta": .object(["stop_reason": .string(stopReason), "stop_sequence": .null]),
                    "usage": AnthropicResponseTranslator.usage(usage),
                ]))
        events.append(Self.event("message_stop", [:]))
        return events
    }

    private mutating func openNewBlock(_ block: JSONValue, isText: Bool, isThinking: Bool = false) -> [ByteBuffer] {
        var events = closeOpenBlock()
        let index = nextBlock
        nextBlock += 1
        openBlock = index
        openBlockIsText = isText
        openBlockIsThinking = isThinking
        events.append(Self.event("content_block_start", ["index": .number(Double(index)), "content_block": block]))
        return events
    }

    private mutating func closeOpenBlock() -> [ByteBuffer] {
        guard let index = openBlock else { return [] }
        openBlock = nil
        return [Self.event("content_block_stop", ["index": .number(Double(index))])]
    }

    private func delta(_ fields: [String: JSONValue], block: Int) -> ByteBuffer {
        Self.event("content_block_delta", ["index": .number(Double(block)), "delta": .object(fields)])
    }

    /// `event: <type>` and `data: {"type": <type>, …}`, as Anthropic frames every event.
    package static func event(_ type: String, _ fields: [String: JSONValue]) -> ByteBuffer {
        var object = fields
        object["type"] = .string(type)
        let json = (try? ProviderJSON.sortedEncoder().encode(JSONValue.object(object))) ?? Data("{}".utf8)
        return frame(event: type, json: json)
    }

    package static func frame(event: String, json: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + event.utf8.count + 16)
        buffer.writeString("event: \(event)\ndata: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }
}
