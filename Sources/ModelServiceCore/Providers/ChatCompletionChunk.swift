import Foundation
import NIOCore

/// One streamed piece of an OpenAI chat completion (`chat.completion.chunk`).
public struct ChatCompletionChunk: Codable, Sendable, Hashable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    /// The upstream's own JSON for this chunk, when it is relayed unchanged (OpenAI-format streams):
    /// the gateway writes these bytes instead of encoding the chunk again. Not encoded.
    public var upstreamJSON: ByteBuffer?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: Usage? = nil) {
        self.id = id
        self.object = "chat.completion.chunk"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    public struct Choice: Codable, Sendable, Hashable {
        public var index: Int
        public var delta: Delta
        public var finishReason: String?

        public init(index: Int = 0, delta: Delta, finishReason: String? = nil) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
        }

        package enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(delta, forKey: .delta)
            // OpenAI sends `finish_reason: null` on every chunk but the last of a choice.
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public struct Delta: Codable, Sendable, Hashable {
        public var role: ChatMessage.Role?
        public var content: String?
        public var toolCalls: [ToolCallDelta]?
        /// A piece of the model's thinking (DeepSeek's and OpenAI-compatible servers' `reasoning_content`, Gemini's thoughts).
        public var reasoningContent: String?

        public init(role: ChatMessage.Role? = nil, content: String? = nil, toolCalls: [ToolCallDelta]? = nil, reasoningContent: String? = nil) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
            self.reasoningContent = reasoningContent
        }

        package enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case reasoningContent = "reasoning_content"
        }
    }

    /// A fragment of a tool call: the first carries id and name, later ones append to `arguments`.
    public struct ToolCallDelta: Codable, Sendable, Hashable {
        public var index: Int
        public var id: String?
        public var type: String?
        public var function: Function?

        public struct Function: Codable, Sendable, Hashable {
            public var name: String?
            public var arguments: String?

            public init(name: String? = nil, arguments: String? = nil) {
                self.name = name
                self.arguments = arguments
            }
        }

        public init(index: Int, id: String? = nil, name: String? = nil, arguments: String? = nil) {
            self.index = index
            self.id = id
            self.type = id == nil ? nil : "function"
            self.function = Function(name: name, arguments: arguments)
        }
    }

    package enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        object = try c.decodeIfPresent(String.self, forKey: .object) ?? "chat.completion.chunk"
        created = try c.decodeIfPresent(Int.self, forKey: .created) ?? currentUnixTime()
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
        choices = try c.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
    }
}
