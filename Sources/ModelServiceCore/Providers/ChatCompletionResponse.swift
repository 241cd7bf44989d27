import Foundation
import NIOCore

/// A non-streamed OpenAI chat completion, the canonical answer every adapter produces.
public struct ChatCompletionResponse: Codable, Sendable, Hashable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
    /// The upstream's own JSON, when the answer is relayed unchanged (OpenAI-format providers):
    /// the gateway sends these bytes instead of encoding the answer again. Not encoded.
    public var upstreamJSON: ByteBuffer?

    public init(id: String, created: Int = currentUnixTime(), model: String, choices: [Choice], usage: Usage?) {
        self.id = id
        self.object = "chat.completion"
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    public struct Choice: Codable, Sendable, Hashable {
        public var index: Int
        public var message: ChatMessage
        public var finishReason: String?

        public init(index: Int, message: ChatMessage, finishReason: String?) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }

        package enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    package enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? makeCompletionID()
        object = try c.decodeIfPresent(String.self, forKey: .object) ?? "chat.completion"
        created = try c.decodeIfPresent(Int.self, forKey: .created) ?? currentUnixTime()
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
        choices = try c.decode([Choice].self, forKey: .choices)
        usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
    }
}

/// Token counts of one call, the figure usage and cost recording rely on.
///
/// `promptTokens` counts every input token, cached or not, as OpenAI's `prompt_tokens` does. Parts of it:
/// `cachedTokens` (cache reads: OpenAI's `prompt_tokens_details.cached_tokens`, DeepSeek's
/// `prompt_cache_hit_tokens`, Anthropic's `cache_read_input_tokens`, Gemini's `cachedContentTokenCount`),
/// `cacheWriteTokens` and `cacheWrite1hTokens` (Anthropic's 5-minute and 1-hour cache writes).
/// `reasoningTokens` is part of the completion. Every count is clamped to `0...TokenCount.max`
/// (outside data never traps); ``TokenDetail`` splits them for pricing.
public struct Usage: Codable, Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var cachedTokens: Int?
    public var cacheWriteTokens: Int?
    public var cacheWrite1hTokens: Int?
    public var reasoningTokens: Int?

    public init(
        promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil,
        cacheWriteTokens: Int? = nil, cacheWrite1hTokens: Int? = nil, reasoningTokens: Int? = nil
    ) {
        self.promptTokens = TokenCount.bounded(promptTokens)
        self.completionTokens = TokenCount.bounded(completionTokens)
        self.totalTokens = totalTokens.map(TokenCount.bounded) ?? TokenCount.sum(promptTokens, completionTokens)
        self.cachedTokens = cachedTokens.map(TokenCount.bounded)
        self.cacheWriteTokens = cacheWriteTokens.map(TokenCount.bounded)
        self.cacheWrite1hTokens = cacheWrite1hTokens.map(TokenCount.bounded)
        self.reasoningTokens = reasoningTokens.map(TokenCount.bounded)
    }

    package enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
        case completionTokensDetails = "completion_tokens_details"
        case promptCacheHitTokens = "prompt_cache_hit_tokens"
    }

    private struct PromptDetails: Codable {
        package var cachedTokens: UpstreamCount?
        package enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    private struct CompletionDetails: Codable {
        package var reasoningTokens: UpstreamCount?
        package enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            promptTokens: try c.decodeIfPresent(UpstreamCount.self, forKey: .promptTokens).count,
            completionTokens: try c.decodeIfPresent(UpstreamCount.self, forKey: .completionTokens).count,
            totalTokens: try c.decodeIfPresent(UpstreamCount.self, forKey: .totalTokens)?.value,
            cachedTokens: (try? c.decodeIfPresent(PromptDetails.self, forKey: .promptTokensDetails))?.cachedTokens?.value
                ?? (try? c.decodeIfPresent(UpstreamCount.self, forKey: .promptCacheHitTokens))??.value,
            reasoningTokens: (try? c.decodeIfPresent(CompletionDetails.self, forKey: .completionTokensDetails))?.reasoningTokens?.value)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
        if let cachedTokens { try c.encode(PromptDetails(cachedTokens: UpstreamCount(cachedTokens)), forKey: .promptTokensDetails) }
        if let reasoningTokens { try c.encode(CompletionDetails(reasoningTokens: UpstreamCount(reasoningTokens)), forKey: .completionTokensDetails) }
    }
}

/// Seconds since 1970, OpenAI's `created`.
public func currentUnixTime() -> Int { Int(Date().timeIntervalSince1970) }

/// An id in OpenAI's style for answers whose upstream gives none.
package func makeCompletionID() -> String {
    "chatcmpl-" + RandomIdentifier.hex()
}
