import Foundation

/// Translates between OpenAI chat and Anthropic Messages (`/v1/messages`).
package enum AnthropicTranslator {
    /// The output limit when the client gives none: Anthropic requires `max_tokens`.
    package static let defaultMaxTokens = 4096

    /// The Messages API body for `request`.
    package static func body(for request: ChatCompletionRequest, target: UpstreamTarget, streaming: Bool) throws -> JSONValue {
        var system: [String] = []
        var messages: [JSONValue] = []
        // Tool results accumulate here: consecutive ones form one user turn, as Anthropic requires.
        var toolResults: [JSONValue] = []

        func flushToolResults() {
            guard !toolResults.isEmpty else { return }
            messages.append(.object(["role": .string("user"), "content": .array(toolResults)]))
            toolResults = []
        }

        for message in request.messages {
            switch message.role {
            case .system, .developer:
                if let text = message.content?.text, !text.isEmpty { system.append(text) }
            case .tool:
                toolResults.append(
                    .object([
                        "type": .string("tool_result"),
                        "tool_use_id": .string(message.toolCallId ?? ""),
                        "content": .string(message.content?.text ?? ""),
                    ])
                )
            case .user:
                flushToolResults()
                messages.append(.object(["role": .string("user"), "content": try userContent(message.content)]))
            case .assistant:
                flushToolResults()
                messages.append(.object(["role": .string("assistant"), "content": try assistantContent(message)]))
            }
        }
        flushToolResults()

        let choice = ToolChoice(request.toolChoice)
        let sendTools = choice != ToolChoice.never && !(request.tools ?? []).isEmpty
        return .compact([
            "model": .string(target.upstreamModel),
            "messages": .array(messages),
            "system": system.isEmpty ? nil : .string(system.joined(separator: "\n\n")),
            "max_tokens": .from(request.effectiveMaxTokens ?? defaultMaxTokens),
            "stop_sequences": .from(request.stop),
            "temperature": .from(request.temperature),
            "top_p": .from(request.topP),
            "top_k": .from(request.topK),
            "stream": streaming ? .bool(true) : nil,
            "tools": sendTools ? tools(request.tools ?? []) : nil,
            "tool_choice": sendTools ? toolChoice(choice) : nil,
        ])
    }

    private static func userContent(_ content: ChatMessageContent?) throws -> JSONValue {
        switch content {
        case nil: return .string("")
        case .text(let text): return .string(text)
        case .parts(let parts): return .array(try parts.map(contentBlock))
        }
    }

    private static func contentBlock(_ part: ChatContentPart) throws -> JSONValue {
        switch part {
        case .text(let text):
            return .object(["type": .string("text"), "text": .string(text)])
        case .imageURL(let url, _):
            let source: JSONValue
            if let data = DataURL(url) {
                source = .object(["type": .string("base64"), "media_type": .string(data.mediaType), "data": .string(data.base64)])
            } else if url.hasPrefix("http://") || url.hasPrefix("https://") {
                source = .object(["type": .string("url"), "url": .string(url)])
            } else {
                throw ProviderError.invalidRequest("image_url must be a base64 data: URL or an http(s) URL")
            }
            return .object(["type": .string("image"), "source": source])
        }
    }

    private static func assistantContent(_ message: ChatMessage) throws -> JSONValue {
        var blocks: [JSONValue] = []
        if let content = message.content {
            for part in content.parts {
                if case .text(let text) = part, text.isEmpty { continue }
                blocks.append(try contentBlock(part))
            }
        }
        for call in message.toolCalls ?? [] {
            blocks.append(
                .object([
                    "type": .string("tool_use"),
                    "id": .string(call.id),
                    "name": .string(call.function.name),
                    "input": try .toolArguments(call.function.arguments, tool: call.function.name),
                ])
            )
        }
        return .array(blocks)
    }

    private static func tools(_ tools: [ChatTool]) -> JSONValue {
        .array(
            tools.map { tool in
                .compact([
                    "name": .string(tool.function.name),
                    "description": .from(tool.function.description),
                    "input_schema": tool.function.parameters ?? .object(["type": .string("object"), "properties": .object([:])]),
                ])
            }
        )
    }

    private static func toolChoice(_ choice: ToolChoice?) -> JSONValue? {
        switch choice {
        case .auto: .object(["type": .string("auto")])
        case .required: .object(["type": .string("any")])
        case .function(let name): .object(["type": .string("tool"), "name": .string(name)])
        case .never, nil: nil
        }
    }

    /// OpenAI's `finish_reason` for an Anthropic `stop_reason`.
    package static func finishReason(_ stopReason: String?) -> String? {
        switch stopReason {
        case nil: nil
        case "end_turn", "stop_sequence", "pause_turn": "stop"
        case "max_tokens": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// The canonical answer for a Messages API response.
    package static func response(from message: AnthropicMessage) -> ChatCompletionResponse {
        var text = ""
        var thinking = ""
        var calls: [ChatToolCall] = []
        for block in message.content {
            switch block.type {
            case "text": text += block.text ?? ""
            case "thinking": thinking += block.thinking ?? ""
            case "tool_use":
                calls.append(ChatToolCall(id: block.id ?? "call_\(calls.count)", name: block.name ?? "", arguments: (block.input ?? .object([:])).jsonText))
            default: break
            }
        }
        var reply = ChatMessage(
            role: .assistant,
            content: text.isEmpty && !calls.isEmpty ? nil : .text(text),
            toolCalls: calls.isEmpty ? nil : calls
        )
        reply.reasoningContent = thinking.isEmpty ? nil : thinking
        return ChatCompletionResponse(
            id: message.id ?? makeCompletionID(),
            model: message.model ?? "",
            choices: [.init(index: 0, message: reply, finishReason: finishReason(message.stopReason) ?? "stop")],
            usage: message.usage?.usage
        )
    }
}

/// The parts of an Anthropic Messages response (and of stream events) the gateway reads.
package struct AnthropicMessage: Decodable {
    package var id: String?
    package var model: String?
    package var content: [Block]
    package var stopReason: String?
    package var usage: AnthropicUsage?

    package struct Block: Decodable {
        package var type: String
        package var text: String?
        package var thinking: String?
        package var id: String?
        package var name: String?
        package var input: JSONValue?
    }

    package enum CodingKeys: String, CodingKey {
        case id, model, content, usage
        case stopReason = "stop_reason"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        content = try c.decodeIfPresent([Block].self, forKey: .content) ?? []
        stopReason = try c.decodeIfPresent(String.self, forKey: .stopReason)
        usage = try c.decodeIfPresent(AnthropicUsage.self, forKey: .usage)
    }
}
