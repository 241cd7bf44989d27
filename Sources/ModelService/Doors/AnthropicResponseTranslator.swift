import Foundation
import ModelServiceCore

/// Canonical answer → Anthropic Messages answer, for models whose provider does not speak Anthropic's format. Pure.
package enum AnthropicResponseTranslator {
    /// Anthropic's `stop_reason` for an OpenAI `finish_reason`.
    package static func stopReason(_ finishReason: String?) -> String {
        switch finishReason {
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"
        }
    }

    /// An id in Anthropic's style (`msg_…`): clients and logs tell messages apart by the prefix.
    package static func makeMessageID() -> String {
        "msg_" + RandomIdentifier.hex()
    }

    /// The message for `response`, named after the registry `model` the client asked for.
    package static func message(from response: ChatCompletionResponse, model: String, id: String = makeMessageID()) -> JSONValue {
        let choice = response.choices.first
        var content: [JSONValue] = []
        if let thinking = choice?.message.reasoningContent, !thinking.isEmpty {
            content.append(thinkingBlock(thinking))
        }
        if let text = choice?.message.content?.text, !text.isEmpty {
            content.append(.object(["type": .string("text"), "text": .string(text)]))
        }
        for call in choice?.message.toolCalls ?? [] {
            content.append(toolUse(id: call.id, name: call.function.name, input: toolInput(call.function.arguments)))
        }
        return .object([
            "id": .string(id),
            "type": .string("message"),
            "role": .string("assistant"),
            "model": .string(model),
            "content": .array(content),
            "stop_reason": .string(stopReason(choice?.finishReason)),
            "stop_sequence": .null,
            "usage": usage(response.usage),
        ])
    }

    /// Anthropic's usage shape: `input_tokens` without the cached parts, which have fields of their own.
    package static func usage(_ usage: Usage?) -> JSONValue {
        guard let usage else { return .object(["input_tokens": .number(0), "output_tokens": .number(0)]) }
        let detail = TokenDetail(usage)
        var fields: [String: JSONValue] = [
            "input_tokens": .number(Double(detail.uncachedInput)),
            "output_tokens": .number(Double(detail.output)),
        ]
        if usage.cachedTokens != nil { fields["cache_read_input_tokens"] = .number(Double(detail.cacheRead)) }
        if usage.cacheWriteTokens != nil || usage.cacheWrite1hTokens != nil {
            fields["cache_creation_input_tokens"] = .number(Double(TokenCount.sum(detail.cacheWrite, detail.cacheWrite1h)))
        }
        return .object(fields)
    }

    /// The model's reasoning as a `thinking` block. It has no Anthropic signature (another provider wrote
    /// it), so the signature is empty; the door drops thinking blocks a client sends back.
    package static func thinkingBlock(_ thinking: String) -> JSONValue {
        .object(["type": .string("thinking"), "thinking": .string(thinking), "signature": .string("")])
    }

    package static func toolUse(id: String, name: String, input: JSONValue) -> JSONValue {
        .object(["type": .string("tool_use"), "id": .string(id), "name": .string(name), "input": input])
    }

    /// Tool arguments as the object Anthropic clients expect; text that is not a JSON object is kept under `_raw`.
    package static func toolInput(_ arguments: String) -> JSONValue {
        if arguments.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .object([:]) }
        if let value = try? JSONValue(jsonText: arguments), case .object = value { return value }
        return .object(["_raw": .string(arguments)])
    }
}
