import ModelServiceCore
/// `count_tokens` for models that are not Anthropic's: about four characters per token over the
/// system prompt, the messages and the tools. An estimate, and said to be one in the README.
package enum AnthropicTokenEstimate {
    package static let charactersPerToken = 4

    package static func inputTokens(_ body: JSONValue) -> Int {
        var characters = 0
        if let system = body["system"] { characters += textLength(system) }
        for message in body["messages"]?.arrayValue ?? [] {
            characters += textLength(message["content"] ?? .null)
        }
        for tool in body["tools"]?.arrayValue ?? [] {
            characters += (tool["name"]?.stringValue?.count ?? 0) + (tool["description"]?.stringValue?.count ?? 0)
            if let schema = tool["input_schema"] { characters += schema.jsonText.count }
        }
        return max(1, (characters + charactersPerToken - 1) / charactersPerToken)
    }

    /// Characters of text in a content value: strings, text blocks, tool inputs and tool results.
    private static func textLength(_ content: JSONValue) -> Int {
        switch content {
        case .string(let text): return text.count
        case .array(let blocks): return blocks.reduce(0) { $0 + textLength($1) }
        case .object:
            switch content["type"]?.stringValue {
            case "text": return content["text"]?.stringValue?.count ?? 0
            case "tool_use": return (content["name"]?.stringValue?.count ?? 0) + (content["input"]?.jsonText.count ?? 0)
            case "tool_result": return textLength(content["content"] ?? .null)
            case "thinking": return content["thinking"]?.stringValue?.count ?? 0
            default: return 0
            }
        default: return 0
        }
    }
}
