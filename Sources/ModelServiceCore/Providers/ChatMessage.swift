import Foundation

/// One message of an OpenAI chat conversation, the canonical form every adapter translates from and to.
public struct ChatMessage: Codable, Sendable, Hashable {
    public enum Role: String, Codable, Sendable, Hashable {
        case system, user, assistant, tool, developer
    }

    public var role: Role
    public var content: ChatMessageContent?
    public var name: String?
    public var toolCalls: [ChatToolCall]?
    public var toolCallId: String?
    /// The model's thinking, as `reasoning_content` (DeepSeek's and OpenAI-compatible servers' field):
    /// filled from Anthropic `thinking` blocks and Gemini thought parts.
    public var reasoningContent: String?

    public init(
        role: Role,
        content: ChatMessageContent? = nil,
        name: String? = nil,
        toolCalls: [ChatToolCall]? = nil,
        toolCallId: String? = nil
    ) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallId = toolCallId
    }

    /// A plain text message, the common case.
    public static func text(_ role: Role, _ text: String) -> ChatMessage {
        ChatMessage(role: role, content: .text(text))
    }

    package enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallId = "tool_call_id"
        case reasoningContent = "reasoning_content"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        // OpenAI sends `content: null` on assistant messages (tool calls); clients expect the key there.
        if let content {
            try container.encode(content, forKey: .content)
        } else if role == .assistant {
            try container.encodeNil(forKey: .content)
        }
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try container.encodeIfPresent(toolCallId, forKey: .toolCallId)
        try container.encodeIfPresent(reasoningContent, forKey: .reasoningContent)
    }
}

/// Message content: OpenAI accepts a bare string or an array of typed parts.
public enum ChatMessageContent: Codable, Sendable, Hashable {
    case text(String)
    case parts([ChatContentPart])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            // Decoding the array directly gives an error that names the bad part.
            self = .parts(try container.decode([ChatContentPart].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .parts(let parts): try container.encode(parts)
        }
    }

    /// All text of the content, parts joined without separator (images skipped), for providers that take a string.
    public var text: String {
        switch self {
        case .text(let text): return text
        case .parts(let parts):
            return parts.reduce(into: "") { result, part in
                if case .text(let text) = part { result += text }
            }
        }
    }

    /// The content as parts, so translators handle one shape.
    public var parts: [ChatContentPart] {
        switch self {
        case .text(let text): [.text(text)]
        case .parts(let parts): parts
        }
    }
}

/// One part of multi-part content: text or an image reference (`data:` URL or http(s) URL).
public enum ChatContentPart: Codable, Sendable, Hashable {
    case text(String)
    case imageURL(url: String, detail: String?)

    private enum CodingKeys: String, CodingKey {
        case type, text
        case imageURL = "image_url"
    }

    private struct ImageURL: Codable {
        package var url: String
        package var detail: String?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text":
            self = .text(try container.decode(String.self, forKey: .text))
        case "image_url":
            let image = try container.decode(ImageURL.self, forKey: .imageURL)
            self = .imageURL(url: image.url, detail: image.detail)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "unsupported content part type '\(type)'; supported: text, image_url"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode("text", forKey: .type)
            try container.encode(text, forKey: .text)
        case .imageURL(let url, let detail):
            try container.encode("image_url", forKey: .type)
            try container.encode(ImageURL(url: url, detail: detail), forKey: .imageURL)
        }
    }
}

/// A tool call made by the assistant; `arguments` is a JSON document in a string, as OpenAI sends it.
public struct ChatToolCall: Codable, Sendable, Hashable {
    public var id: String
    public var type: String
    public var function: Function

    public struct Function: Codable, Sendable, Hashable {
        public var name: String
        public var arguments: String

        public init(name: String, arguments: String) {
            self.name = name
            self.arguments = arguments
        }
    }

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.type = "function"
        self.function = Function(name: name, arguments: arguments)
    }

    package enum CodingKeys: String, CodingKey { case id, type, function }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? "function"
        self.function = try container.decode(Function.self, forKey: .function)
    }
}
