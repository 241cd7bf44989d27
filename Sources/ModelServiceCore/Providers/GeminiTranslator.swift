import Foundation

/// Translates between OpenAI chat and Gemini `generateContent`.
package enum GeminiTranslator {
    /// `{base}/v1beta/models/{model}:{method}`, accepting model ids written with or without `models/`.
    /// The `generateContent` body for `request`.
    package static func body(for request: ChatCompletionRequest) throws -> JSONValue {
        var system: [String] = []
        var contents: [JSONValue] = []
        var functionResponses: [JSONValue] = []
        var toolNames: [String: String] = [:]

        func flushFunctionResponses() {
            guard !functionResponses.isEmpty else { return }
            contents.append(.object(["role": .string("user"), "parts": .array(functionResponses)]))
            functionResponses = []
        }

        for message in request.messages {
            switch message.role {
            case .system, .developer:
                if let text = message.content?.text, !text.isEmpty { system.append(text) }
            case .tool:
                let text = message.content?.text ?? ""
                let name = message.toolCallId.flatMap { toolNames[$0] } ?? message.name ?? "function"
                // Gemini wants an object; JSON tool output is passed as data, anything else as text.
                let value = (try? JSONValue(jsonText: text)) ?? .string(text)
                functionResponses.append(
                    .object(["functionResponse": .object(["name": .string(name), "response": .object(["content": value])])])
                )
            case .user:
                flushFunctionResponses()
                contents.append(.object(["role": .string("user"), "parts": .array(try parts(message.content))]))
            case .assistant:
                flushFunctionResponses()
                var parts = try parts(message.content).filter { $0["text"] != .string("") }
                for call in message.toolCalls ?? [] {
                    toolNames[call.id] = call.function.name
                    let args = try JSONValue.toolArguments(call.function.arguments, tool: call.function.name)
                    parts.append(.object(["functionCall": .object(["name": .string(call.function.name), "args": args])]))
                }
                if parts.isEmpty { parts = [.object(["text": .string("")])] }
                contents.append(.object(["role": .string("model"), "parts": .array(parts)]))
            }
        }
        flushFunctionResponses()

        return .compact([
            "contents": .array(contents),
            "systemInstruction": system.isEmpty ? nil : .object(["parts": .array([.object(["text": .string(system.joined(separator: "\n\n"))])])]),
            "generationConfig": generationConfig(request),
            "tools": tools(request.tools),
            "toolConfig": (request.tools ?? []).isEmpty ? nil : toolConfig(ToolChoice(request.toolChoice)),
        ])
    }

    private static func parts(_ content: ChatMessageContent?) throws -> [JSONValue] {
        guard let content else { return [] }
        return try content.parts.map { part in
            switch part {
            case .text(let text):
                return .object(["text": .string(text)])
            case .imageURL(let url, _):
                if let data = DataURL(url) {
                    return .object(["inlineData": .object(["mimeType": .string(data.mediaType), "data": .string(data.base64)])])
                }
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw ProviderError.invalidRequest("image_url must be a base64 data: URL or an http(s) URL")
                }
                return .object(["fileData": .object(["fileUri": .string(url), "mimeType": .string(DataURL.guessMediaType(forURL: url))])])
            }
        }
    }

    private static func generationConfig(_ request: ChatCompletionRequest) -> JSONValue? {
        var mimeType: JSONValue?
        var schema: JSONValue?
        switch ResponseFormat(request.responseFormat) {
        case .text: break
        case .jsonObject: mimeType = .string("application/json")
        case .jsonSchema(let value):
            mimeType = .string("application/json")
            schema = value.map(sanitizedSchema)
        }
        let config = JSONValue.compact([
            "temperature": .from(request.temperature),
            "topP": .from(request.topP),
            "topK": .from(request.topK),
            "maxOutputTokens": .from(request.effectiveMaxTokens),
            "stopSequences": .from(request.stop),
            "candidateCount": .from(request.n),
            "presencePenalty": .from(request.presencePenalty),
            "frequencyPenalty": .from(request.frequencyPenalty),
            "seed": .from(request.seed),
            "responseMimeType": mimeType,
            "responseSchema": schema,
            "thinkingConfig": ChatDefaults.thinkingBudget(request).map { .object(["thinkingBudget": .number(Double($0)), "includeThoughts": .bool(true)]) },
        ])
        return config == .object([:]) ? nil : config
    }

    private static func tools(_ tools: [ChatTool]?) -> JSONValue? {
        guard let tools, !tools.isEmpty else { return nil }
        let declarations = tools.map { tool in
            JSONValue.compact([
                "name": .string(tool.function.name),
                "description": .from(tool.function.description),
                "parameters": tool.function.parameters.map(sanitizedSchema),
            ])
        }
        return .array([.object(["functionDeclarations": .array(declarations)])])
    }

    private static func toolConfig(_ choice: ToolChoice?) -> JSONValue? {
        let config: JSONValue
        switch choice {
        case nil: return nil
        case .auto: config = .object(["mode": .string("AUTO")])
        case .never: config = .object(["mode": .string("NONE")])
        case .required: config = .object(["mode": .string("ANY")])
        case .function(let name): config = .object(["mode": .string("ANY"), "allowedFunctionNames": .array([.string(name)])])
        }
        return .object(["functionCallingConfig": config])
    }

    /// Gemini's schema is an OpenAPI subset: drop the JSON Schema keywords it rejects.
    package static func sanitizedSchema(_ schema: JSONValue) -> JSONValue {
        switch schema {
        case .object(let object):
            var result: [String: JSONValue] = [:]
            for (key, value) in object where !["$schema", "additionalProperties", "strict", "$id"].contains(key) {
                result[key] = key == "properties" ? value.objectValue.map { .object($0.mapValues(sanitizedSchema)) } ?? value : sanitizedSchema(value)
            }
            return .object(result)
        case .array(let items): return .array(items.map(sanitizedSchema))
        default: return schema
        }
    }

    /// OpenAI's `finish_reason` for a Gemini `finishReason`.
    package static func finishReason(_ reason: String?, sawFunctionCall: Bool) -> String? {
        if sawFunctionCall, reason != nil { return "tool_calls" }
        switch reason {
        case nil: return nil
        case "MAX_TOKENS": return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY": return "content_filter"
        default: return "stop"
        }
    }

    /// The canonical answer for a `generateContent` response.
    package static func response(from answer: GeminiResponse, model: String) -> ChatCompletionResponse {
        let candidate = answer.candidates?.first
        var text = ""
        var thoughts = ""
        var calls: [ChatToolCall] = []
        for part in candidate?.content?.parts ?? [] {
            if part.thought == true {
                thoughts += part.text ?? ""
                continue
            }
            if let call = part.functionCall {
                calls.append(ChatToolCall(id: "call_\(calls.count)", name: call.name, arguments: (call.args ?? .object([:])).jsonText))
            } else if let partText = part.text {
                text += partText
            }
        }
        let blocked = candidate == nil && answer.promptFeedback?.blockReason != nil
        let reason = finishReason(candidate?.finishReason ?? "STOP", sawFunctionCall: !calls.isEmpty) ?? "stop"
        var message = ChatMessage(role: .assistant, content: text.isEmpty && !calls.isEmpty ? nil : .text(text), toolCalls: calls.isEmpty ? nil : calls)
        message.reasoningContent = thoughts.isEmpty ? nil : thoughts
        return ChatCompletionResponse(
            id: answer.responseId ?? makeCompletionID(),
            model: answer.modelVersion ?? model,
            choices: [
                .init(
                    index: 0,
                    message: message,
                    finishReason: blocked ? "content_filter" : reason
                )
            ],
            usage: answer.usageMetadata?.usage
        )
    }
}
