import Foundation
import ModelServiceCore

/// Anthropic Messages request → the canonical chat request, for models whose provider does not speak
/// Anthropic's format. Pure; every refusal is a 400 naming the field.
package enum AnthropicRequestTranslator {
    package static func request(from body: JSONValue) throws(ServiceError) -> ChatCompletionRequest {
        guard case .object(let object) = body else { throw ServiceError(.invalidJSON, "The request body must be a JSON object.") }
        guard let model = object["model"]?.stringValue, !model.isEmpty else { throw .invalidField("model", "is required") }
        guard case .array(let rawMessages)? = object["messages"], !rawMessages.isEmpty else {
            throw .invalidField("messages", "must contain at least one message")
        }
        var messages: [ChatMessage] = []
        if let system = object["system"], system != .null {
            let text = try systemText(system)
            if !text.isEmpty { messages.append(.text(.system, text)) }
        }
        for (index, raw) in rawMessages.enumerated() {
            messages += try translate(message: raw, field: "messages[\(index)]")
        }
        var request = ChatCompletionRequest(model: model, messages: messages, stream: try bool(object["stream"], field: "stream"))
        request.maxTokens = try int(object["max_tokens"], field: "max_tokens")
        request.temperature = try number(object["temperature"], field: "temperature")
        request.topP = try number(object["top_p"], field: "top_p")
        request.topK = try int(object["top_k"], field: "top_k")
        if object["thinking"]?["type"]?.stringValue == "enabled" {
            request.thinkingBudget = try int(object["thinking"]?["budget_tokens"], field: "thinking.budget_tokens")
        }
        if let stops = object["stop_sequences"], stops != .null {
            let strings = stops.arrayValue?.compactMap(\.stringValue)
            guard let strings, strings.count == stops.arrayValue?.count else { throw .invalidField("stop_sequences", "must be an array of strings") }
            request.stop = strings.isEmpty ? nil : strings
        }
        if let user = object["metadata"]?["user_id"], user != .null {
            guard let text = user.stringValue else { throw .invalidField("metadata.user_id", "must be a string") }
            request.user = text
        }
        if let tools = object["tools"], tools != .null {
            guard case .array(let items) = tools else { throw .invalidField("tools", "must be an array") }
            var translated: [ChatTool] = []
            for (index, tool) in items.enumerated() { translated.append(try translate(tool: tool, field: "tools[\(index)]")) }
            request.tools = translated
        }
        if let choice = object["tool_choice"], choice != .null {
            request.toolChoice = try toolChoice(choice)
        }
        return request
    }

    /// `system` as one string: Anthropic takes a string or an array of text blocks.
    package static func systemText(_ system: JSONValue) throws(ServiceError) -> String {
        switch system {
        case .string(let text): return text
        case .array(let blocks):
            var texts: [String] = []
            for (index, block) in blocks.enumerated() {
                guard block["type"]?.stringValue == "text", let text = block["text"]?.stringValue else {
                    throw .invalidField("system[\(index)]", "must be a text block")
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n\n")
        default: throw .invalidField("system", "must be a string or an array of text blocks")
        }
    }

    /// One Anthropic message as canonical messages: a user turn's `tool_result` blocks become `tool`
    /// messages placed first, since OpenAI wants them right after the assistant's tool calls.
    private static func translate(message: JSONValue, field: String) throws(ServiceError) -> [ChatMessage] {
        guard case .object = message else { throw .invalidField(field, "must be an object") }
        let role = message["role"]?.stringValue
        if role == "system" { return try midConversationSystem(message["content"], field: "\(field).content") }
        guard role == "user" || role == "assistant" else { throw .invalidField("\(field).role", "must be 'user', 'assistant' or 'system'") }
        let blocks: [JSONValue]
        switch message["content"] {
        case .string(let text)?: return [.text(role == "user" ? .user : .assistant, text)]
        case .array(let items)?: blocks = items
        default: throw .invalidField("\(field).content", "must be a string or an array of content blocks")
        }
        var parts: [ChatContentPart] = []
        var toolCalls: [ChatToolCall] = []
        var toolResults: [ChatMessage] = []
        for (index, block) in blocks.enumerated() {
            let blockField = "\(field).content[\(index)]"
            switch block["type"]?.stringValue {
            case "text":
                guard let text = block["text"]?.stringValue else { throw .invalidField("\(blockField).text", "is required") }
                parts.append(.text(text))
            case "image" where role == "user":
                parts.append(try image(block, field: blockField))
            case "tool_use" where role == "assistant":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw .invalidField(blockField, "a tool_use block needs id and name")
                }
                toolCalls.append(ChatToolCall(id: id, name: name, arguments: (block["input"] ?? .object([:])).jsonText))
            case "tool_result" where role == "user":
                guard let id = block["tool_use_id"]?.stringValue else { throw .invalidField("\(blockField).tool_use_id", "is required") }
                var text = try toolResultText(block["content"], field: "\(blockField).content")
                if block["is_error"]?.boolValue == true { text = "Error: " + text }
                toolResults.append(ChatMessage(role: .tool, content: .text(text), toolCallId: id))
            case "thinking", "redacted_thinking":
                continue  // Earlier reasoning has no place in the canonical request; providers other than Anthropic ignore it.
            case let type:
                throw .invalidField(
                    "\(blockField).type",
                    "'\(type ?? "")' is not supported in a \(role ?? "") message for this model; supported: text, image, tool_use, tool_result, thinking"
                )
            }
        }
        var result = toolResults
        if role == "assistant" {
            let content: ChatMessageContent? = parts.isEmpty ? (toolCalls.isEmpty ? .text("") : nil) : textOrParts(parts)
            result.append(ChatMessage(role: .assistant, content: content, toolCalls: toolCalls.isEmpty ? nil : toolCalls))
        } else if !parts.isEmpty || toolResults.isEmpty {
            result.append(ChatMessage(role: .user, content: textOrParts(parts)))
        }
        return result
    }

    /// A `system` message after the first turn (Anthropic's mid-conversation system messages, which Claude Code
    /// sends for models it does not know) stays where it is, as a system message: OpenAI-format upstreams take it
    /// in place, and the Gemini and Anthropic translators merge every system message into their system instruction.
    private static func midConversationSystem(_ content: JSONValue?, field: String) throws(ServiceError) -> [ChatMessage] {
        guard let content, content != .null else { throw .invalidField(field, "is required") }
        let text: String
        do { text = try systemText(content) } catch { throw .invalidField(field, "must be a string or an array of text blocks") }
        return text.isEmpty ? [] : [.text(.system, text)]
    }

    /// Plain text stays a string (what every provider takes); anything with an image stays parts.
    private static func textOrParts(_ parts: [ChatContentPart]) -> ChatMessageContent {
        if parts.allSatisfy({ if case .text = $0 { true } else { false } }) {
            return .text(ChatMessageContent.parts(parts).text)
        }
        return .parts(parts)
    }

    private static func image(_ block: JSONValue, field: String) throws(ServiceError) -> ChatContentPart {
        let source = block["source"]
        switch source?["type"]?.stringValue {
        case "base64":
            guard let mediaType = source?["media_type"]?.stringValue, let data = source?["data"]?.stringValue else {
                throw .invalidField("\(field).source", "a base64 image needs media_type and data")
            }
            return .imageURL(url: "data:\(mediaType);base64,\(data)", detail: nil)
        case "url":
            guard let url = source?["url"]?.stringValue else { throw .invalidField("\(field).source.url", "is required") }
            return .imageURL(url: url, detail: nil)
        default:
            throw .invalidField("\(field).source.type", "must be 'base64' or 'url'")
        }
    }

    private static func toolResultText(_ content: JSONValue?, field: String) throws(ServiceError) -> String {
        switch content {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .array(let blocks)?:
            return blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined(separator: "\n")
        default: throw .invalidField(field, "must be a string or an array of content blocks")
        }
    }

    private static func translate(tool: JSONValue, field: String) throws(ServiceError) -> ChatTool {
        guard let name = tool["name"]?.stringValue, !name.isEmpty else { throw .invalidField("\(field).name", "is required") }
        guard let schema = tool["input_schema"], case .object = schema else {
            throw .invalidField("\(field).input_schema", "is required; server tools (web search, code execution, …) work only on Anthropic models")
        }
        return ChatTool(function: .init(name: name, description: tool["description"]?.stringValue, parameters: schema))
    }

    /// Anthropic's `{type: auto|any|tool|none}` as OpenAI's `tool_choice`.
    private static func toolChoice(_ choice: JSONValue) throws(ServiceError) -> JSONValue {
        switch choice["type"]?.stringValue {
        case "auto": return .string("auto")
        case "any": return .string("required")
        case "none": return .string("none")
        case "tool":
            guard let name = choice["name"]?.stringValue else { throw .invalidField("tool_choice.name", "is required when type is 'tool'") }
            return .object(["type": .string("function"), "function": .object(["name": .string(name)])])
        default: throw .invalidField("tool_choice.type", "must be auto, any, tool or none")
        }
    }

    private static func int(_ value: JSONValue?, field: String) throws(ServiceError) -> Int? {
        guard let value, value != .null else { return nil }
        guard let int = value.intValue, int > 0 else { throw .invalidField(field, "must be a positive integer") }
        return int
    }

    private static func number(_ value: JSONValue?, field: String) throws(ServiceError) -> Double? {
        guard let value, value != .null else { return nil }
        guard let number = value.doubleValue else { throw .invalidField(field, "must be a number") }
        return number
    }

    private static func bool(_ value: JSONValue?, field: String) throws(ServiceError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard let bool = value.boolValue else { throw .invalidField(field, "must be a boolean") }
        return bool
    }
}
