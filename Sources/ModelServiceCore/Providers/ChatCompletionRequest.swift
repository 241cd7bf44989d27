import Foundation
import NIOCore

/// An OpenAI chat-completions request: what clients send and what OpenAI-format upstreams receive.
///
/// Unknown fields are ignored; `stop` accepts a string or an array and is normalised to an array.
public struct ChatCompletionRequest: Codable, Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var stop: [String]?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var tools: [ChatTool]?
    public var toolChoice: JSONValue?
    public var responseFormat: JSONValue?
    public var user: String?
    public var n: Int?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var seed: Int?
    /// The client's JSON as sent, when it came in OpenAI's format: OpenAI-format upstreams get these
    /// bytes with only the gateway's edits, so fields this type does not know still arrive. Not encoded.
    public var clientJSON: ByteBuffer?
    /// Sample from the top K tokens only: Anthropic's and Gemini's `top_k`, Ollama's `options.top_k`, set by the
    /// `/v1/messages` door. OpenAI has no such field and refuses unknown ones, so it is never encoded.
    public var topK: Int?
    /// How hard a reasoning model thinks: OpenAI's `reasoning_effort` (`low`, `medium`, `high`, …), sent only to
    /// models whose `providerSettings.reasoning` is true (``ChatDefaults``); Gemini takes it as a thinking budget.
    public var reasoningEffort: String?
    /// A thinking budget in tokens: Anthropic's `thinking.budget_tokens`, set by the `/v1/messages` door. Never
    /// encoded; ``ChatDefaults`` turns it into `reasoningEffort`, and Gemini takes it as `thinkingBudget`.
    public var thinkingBudget: Int?

    public init(model: String, messages: [ChatMessage], stream: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.stream = stream
    }

    /// `stream_options`: OpenAI sends the usage in a last chunk only when `include_usage` is true.
    public struct StreamOptions: Codable, Sendable, Hashable {
        public var includeUsage: Bool?

        public init(includeUsage: Bool?) { self.includeUsage = includeUsage }

        package enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// True when the client wants SSE chunks instead of one JSON answer.
    public var isStreaming: Bool { stream == true }

    /// True when the client asked for the trailing usage chunk of a stream.
    public var wantsStreamUsage: Bool { streamOptions?.includeUsage == true }

    /// The completion limit, preferring the newer field as OpenAI does.
    public var effectiveMaxTokens: Int? { maxCompletionTokens ?? maxTokens }

    package enum CodingKeys: String, CodingKey {
        case model, messages, temperature, stop, stream, tools, user, n, seed
        case topP = "top_p"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case streamOptions = "stream_options"
        case toolChoice = "tool_choice"
        case responseFormat = "response_format"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case reasoningEffort = "reasoning_effort"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        messages = try c.decode([ChatMessage].self, forKey: .messages)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        if (try? c.decodeNil(forKey: .stop)) ?? true {
            stop = nil
        } else if let single = try? c.decode(String.self, forKey: .stop) {
            stop = [single]
        } else {
            stop = try c.decode([String].self, forKey: .stop)
        }
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        tools = try c.decodeIfPresent([ChatTool].self, forKey: .tools)
        toolChoice = try c.decodeIfPresent(JSONValue.self, forKey: .toolChoice)
        responseFormat = try c.decodeIfPresent(JSONValue.self, forKey: .responseFormat)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        presencePenalty = try c.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        seed = try c.decodeIfPresent(Int.self, forKey: .seed)
        reasoningEffort = try c.decodeIfPresent(String.self, forKey: .reasoningEffort)
    }
}

/// A tool the model may call; only `function` tools exist in the chat API.
public struct ChatTool: Codable, Sendable, Hashable {
    public var type: String
    public var function: FunctionDefinition

    public struct FunctionDefinition: Codable, Sendable, Hashable {
        public var name: String
        public var description: String?
        public var parameters: JSONValue?

        public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
        }
    }

    public init(function: FunctionDefinition) {
        self.type = "function"
        self.function = function
    }
}

/// The forms of OpenAI's `tool_choice`, parsed once so each adapter maps one enum.
package enum ToolChoice: Equatable {
    case auto, never, required
    case function(String)

    /// Nil when absent or not understood (the upstream default, auto, then applies).
    package init?(_ value: JSONValue?) {
        switch value {
        case .string("auto"): self = .auto
        case .string("none"): self = .never
        case .string("required"), .string("any"): self = .required
        case .object(let object):
            guard let name = object["function"]?["name"]?.stringValue else { return nil }
            self = .function(name)
        default: return nil
        }
    }
}
