/// Translates between OpenAI chat and Ollama's native `/api/chat`.
package enum OllamaTranslator {
    package static func body(for request: ChatCompletionRequest, target: UpstreamTarget, streaming: Bool) throws -> JSONValue {
        let messages = try request.messages.map(message)
        let options = JSONValue.compact([
            "temperature": .from(request.temperature),
            "top_p": .from(request.topP),
            "top_k": .from(request.topK),
            "num_predict": .from(request.effectiveMaxTokens),
            "stop": .from(request.stop),
            "seed": .from(request.seed),
            "presence_penalty": .from(request.presencePenalty),
            "frequency_penalty": .from(request.frequencyPenalty),
        ])
        var format: JSONValue?
        switch ResponseFormat(request.responseFormat) {
        case .text: break
        case .jsonObject: format = .string("json")
        case .jsonSchema(let schema): format = schema ?? .string("json")
        }
        let sendTools = ToolChoice(request.toolChoice) != ToolChoice.never && !(request.tools ?? []).isEmpty
        return .compact([
            "model": .string(target.upstreamModel),
            "messages": .array(messages),
            "stream": .bool(streaming),
            "options": options == .object([:]) ? nil : options,
            "tools": sendTools ? .array((request.tools ?? []).map(tool)) : nil,
            "format": format,
        ])
    }

    private static func message(_ message: ChatMessage) throws -> JSONValue {
        let role: String
        switch message.role {
        case .system, .developer: role = "system"
        case .user: role = "user"
        case .assistant: role = "assistant"
        case .tool: role = "tool"
        }
        var images: [JSONValue] = []
        for part in message.content?.parts ?? [] {
            guard case .imageURL(let url, _) = part else { continue }
            guard let data = DataURL(url) else {
                throw ProviderError.invalidRequest("Ollama takes images only as base64 data: URLs")
            }
            images.append(.string(data.base64))
        }
        let calls = try (message.toolCalls ?? []).map { call in
            JSONValue.object([
                "function": .object([
                    "name": .string(call.function.name),
                    "arguments": try .toolArguments(call.function.arguments, tool: call.function.name),
                ])
            ])
        }
        return .compact([
            "role": .string(role),
            "content": .string(message.content?.text ?? ""),
            "images": images.isEmpty ? nil : .array(images),
            "tool_calls": calls.isEmpty ? nil : .array(calls),
        ])
    }

    private static func tool(_ tool: ChatTool) -> JSONValue {
        .object([
            "type": .string("function"),
            "function": .compact([
                "name": .string(tool.function.name),
                "description": .from(tool.function.description),
                "parameters": tool.function.parameters,
            ]),
        ])
    }

    package static func toolCalls(_ calls: [OllamaChatResponse.ToolCall]?, startingAt start: Int = 0) -> [ChatToolCall] {
        (calls ?? []).enumerated().map { offset, call in
            ChatToolCall(id: "call_\(start + offset)", name: call.function.name, arguments: (call.function.arguments ?? .object([:])).jsonText)
        }
    }

    package static func finishReason(_ doneReason: String?, sawToolCall: Bool) -> String {
        if sawToolCall { return "tool_calls" }
        return doneReason == "length" ? "length" : "stop"
    }

    package static func response(from answer: OllamaChatResponse, model: String) -> ChatCompletionResponse {
        let calls = toolCalls(answer.message?.toolCalls)
        let text = answer.message?.content ?? ""
        return ChatCompletionResponse(
            id: makeCompletionID(),
            model: answer.model ?? model,
            choices: [
                .init(
                    index: 0,
                    message: ChatMessage(role: .assistant, content: text.isEmpty && !calls.isEmpty ? nil : .text(text), toolCalls: calls.isEmpty ? nil : calls),
                    finishReason: finishReason(answer.doneReason, sawToolCall: !calls.isEmpty)
                )
            ],
            usage: answer.usage
        )
    }
}

/// One Ollama `/api/chat` answer, or one line of its stream.
package struct OllamaChatResponse: Decodable {
    package var model: String?
    package var message: Message?
    package var done: Bool?
    package var doneReason: String?
    package var promptEvalCount: UpstreamCount?
    package var evalCount: UpstreamCount?
    package var error: String?

    package struct Message: Decodable {
        package var role: String?
        package var content: String?
        package var toolCalls: [ToolCall]?

        package enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
        }
    }

    package struct ToolCall: Decodable {
        package var function: Function

        package struct Function: Decodable {
            package var name: String
            package var arguments: JSONValue?
        }
    }

    package var usage: Usage? {
        guard promptEvalCount != nil || evalCount != nil else { return nil }
        return Usage(promptTokens: promptEvalCount.count, completionTokens: evalCount.count)
    }

    package enum CodingKeys: String, CodingKey {
        case model, message, done, error
        case doneReason = "done_reason"
        case promptEvalCount = "prompt_eval_count"
        case evalCount = "eval_count"
    }
}
