import Foundation

/// Translates between OpenAI chat and Bedrock's Converse API (`/model/{modelId}/converse[-stream]`), the one
/// request shape every Bedrock model family (Claude, Llama, Mistral, Nova) takes.
package enum BedrockTranslator {
    /// The Converse body for `request`. Bedrock wants roles to alternate and no empty text block, so messages of
    /// the same role that follow each other (tool results, then the user's next words) become one turn.
    package static func body(for request: ChatCompletionRequest) throws -> JSONValue {
        var system: [JSONValue] = []
        var turns: [(role: String, content: [JSONValue])] = []
        var usesTools = false

        func append(_ role: String, _ content: [JSONValue]) {
            guard !content.isEmpty else { return }
            if turns.last?.role == role {
                turns[turns.count - 1].content += content
            } else {
                turns.append((role, content))
            }
        }

        for message in request.messages {
            switch message.role {
            case .system, .developer:
                if let text = message.content?.text, !text.isEmpty { system.append(.object(["text": .string(text)])) }
            case .tool:
                usesTools = true
                // Bedrock refuses a blank text block, and a tool may well return nothing.
                let text = message.content?.text ?? ""
                let result: JSONValue = .object([
                    "toolUseId": .string(message.toolCallId ?? ""),
                    "content": .array([.object(["text": .string(text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "(no output)" : text)])]),
                    "status": .string("success"),
                ])
                append("user", [.object(["toolResult": result])])
            case .user:
                append("user", try blocks(message.content))
            case .assistant:
                var content = try blocks(message.content)
                for call in message.toolCalls ?? [] {
                    usesTools = true
                    let input = try JSONValue.toolArguments(call.function.arguments, tool: call.function.name)
                    content.append(
                        .object(["toolUse": .object(["toolUseId": .string(call.id), "name": .string(call.function.name), "input": input])]))
                }
                append("assistant", content)
            }
        }

        let budget = thinkingBudget(request)
        return .compact([
            "messages": .array(turns.map { .object(["role": .string($0.role), "content": .array($0.content)]) }),
            "system": system.isEmpty ? nil : .array(system),
            "inferenceConfig": inferenceConfig(request, thinking: budget != nil),
            "toolConfig": toolConfig(request, historyUsesTools: usesTools),
            "additionalModelRequestFields": additionalFields(request, thinkingBudget: budget),
        ])
    }

    /// Text and image blocks of a message; empty text is left out (Bedrock refuses blank blocks).
    private static func blocks(_ content: ChatMessageContent?) throws -> [JSONValue] {
        guard let content else { return [] }
        return try content.parts.compactMap { part -> JSONValue? in
            switch part {
            case .text(let text):
                return text.isEmpty ? nil : .object(["text": .string(text)])
            case .imageURL(let url, _):
                guard let data = DataURL(url) else {
                    throw ProviderError.invalidRequest("Bedrock takes images as base64 data: URLs (image/png, jpeg, gif or webp), not links")
                }
                guard let format = imageFormat(data.mediaType) else {
                    throw ProviderError.invalidRequest("Bedrock takes png, jpeg, gif or webp images, not \(data.mediaType)")
                }
                return .object(["image": .object(["format": .string(format), "source": .object(["bytes": .string(data.base64)])])])
            }
        }
    }

    /// Bedrock's image `format` for a media type, nil for one it does not take.
    package static func imageFormat(_ mediaType: String) -> String? {
        switch mediaType.lowercased() {
        case "image/png": "png"
        case "image/jpeg", "image/jpg": "jpeg"
        case "image/gif": "gif"
        case "image/webp": "webp"
        default: nil
        }
    }

    /// Claude on Bedrock refuses a temperature or top_p beside extended thinking, so neither is sent then.
    private static func inferenceConfig(_ request: ChatCompletionRequest, thinking: Bool) -> JSONValue? {
        let config = JSONValue.compact([
            "maxTokens": .from(request.effectiveMaxTokens),
            "temperature": thinking ? nil : .from(request.temperature),
            "topP": thinking ? nil : .from(request.topP),
            "stopSequences": .from(request.stop),
        ])
        return config == .object([:]) ? nil : config
    }

    /// `toolConfig`: the tools and the choice. With `tool_choice: "none"` the tools are still sent when the history
    /// holds tool calls or results (Bedrock requires a `toolConfig` then), but no choice forces a call.
    private static func toolConfig(_ request: ChatCompletionRequest, historyUsesTools: Bool) -> JSONValue? {
        guard let tools = request.tools, !tools.isEmpty else { return nil }
        let choice = ToolChoice(request.toolChoice)
        if choice == .never, !historyUsesTools { return nil }
        let specs = tools.map { tool in
            JSONValue.object([
                "toolSpec": .compact([
                    "name": .string(tool.function.name),
                    "description": .from(tool.function.description),
                    "inputSchema": .object(["json": tool.function.parameters ?? .object(["type": .string("object"), "properties": .object([:])])]),
                ])
            ])
        }
        let toolChoice: JSONValue? =
            switch choice {
            case .auto: .object(["auto": .object([:])])
            case .required: .object(["any": .object([:])])
            case .function(let name): .object(["tool": .object(["name": .string(name)])])
            case .never, nil: nil
            }
        return .compact(["tools": .array(specs), "toolChoice": toolChoice])
    }

    /// Fields Converse has no name for, passed to the model as they are: `top_k`, and Claude's `thinking`.
    private static func additionalFields(_ request: ChatCompletionRequest, thinkingBudget: Int?) -> JSONValue? {
        let fields = JSONValue.compact([
            "top_k": thinkingBudget == nil ? .from(request.topK) : nil,
            "thinking": thinkingBudget.map { .object(["type": .string("enabled"), "budget_tokens": .number(Double($0))]) },
        ])
        return fields == .object([:]) ? nil : fields
    }

    /// A thinking budget for a model marked `reasoning` (``ChatDefaults`` clears both fields for the others):
    /// the client's budget, else its effort as Gemini reads it, never under Claude's minimum of 1,024.
    private static func thinkingBudget(_ request: ChatCompletionRequest) -> Int? {
        guard request.thinkingBudget != nil || request.reasoningEffort != nil else { return nil }
        return ChatDefaults.thinkingBudget(request).map { max($0, 1_024) }
    }

    /// OpenAI's `finish_reason` for a Bedrock `stopReason`.
    package static func finishReason(_ stopReason: String?) -> String? {
        switch stopReason {
        case nil: nil
        case "end_turn", "stop_sequence": "stop"
        case "tool_use": "tool_calls"
        case "max_tokens", "model_context_window_exceeded": "length"
        case "guardrail_intervened", "content_filtered": "content_filter"
        default: "stop"
        }
    }

    /// The canonical answer for a Converse response (which carries no id and no model name).
    package static func response(from answer: BedrockResponse, model: String) -> ChatCompletionResponse {
        var text = ""
        var reasoning = ""
        var calls: [ChatToolCall] = []
        for block in answer.output?.message?.content ?? [] {
            if let piece = block.text { text += piece }
            if let piece = block.reasoningContent?.reasoningText?.text { reasoning += piece }
            if let use = block.toolUse {
                calls.append(ChatToolCall(id: use.toolUseId ?? "call_\(calls.count)", name: use.name ?? "", arguments: (use.input ?? .object([:])).jsonText))
            }
        }
        var message = ChatMessage(role: .assistant, content: text.isEmpty && !calls.isEmpty ? nil : .text(text), toolCalls: calls.isEmpty ? nil : calls)
        message.reasoningContent = reasoning.isEmpty ? nil : reasoning
        let reason = finishReason(answer.stopReason) ?? (calls.isEmpty ? "stop" : "tool_calls")
        return ChatCompletionResponse(
            id: makeCompletionID(), model: model, choices: [.init(index: 0, message: message, finishReason: reason)], usage: answer.usage?.usage)
    }
}
