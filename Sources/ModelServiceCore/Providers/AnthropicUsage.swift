/// Anthropic's token counts, as `message`, `message_start` and `message_delta` carry them.
///
/// Anthropic's `input_tokens` leave out cache reads and writes; the gateway's prompt counts them all,
/// as OpenAI's `prompt_tokens` do, and keeps each part apart so each is priced at its own rate. Cache
/// writes come as one total (`cache_creation_input_tokens`) and, for calls that choose a 1-hour cache,
/// split by lifetime in `cache_creation`.
package struct AnthropicUsage: Decodable, Sendable, Equatable {
    package var inputTokens: UpstreamCount?
    package var outputTokens: UpstreamCount?
    package var cacheReadInputTokens: UpstreamCount?
    package var cacheCreationInputTokens: UpstreamCount?
    package var cacheCreation: CacheCreation?

    package struct CacheCreation: Decodable, Sendable, Equatable {
        package var ephemeral5m: UpstreamCount?
        package var ephemeral1h: UpstreamCount?

        package enum CodingKeys: String, CodingKey {
            case ephemeral5m = "ephemeral_5m_input_tokens"
            case ephemeral1h = "ephemeral_1h_input_tokens"
        }
    }

    package enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadInputTokens = "cache_read_input_tokens"
        case cacheCreationInputTokens = "cache_creation_input_tokens"
        case cacheCreation = "cache_creation"
    }

    package init() {}

    /// Later events repeat or update counts (`message_delta` carries the final output tokens).
    package mutating func merge(_ other: AnthropicUsage) {
        inputTokens = other.inputTokens ?? inputTokens
        outputTokens = other.outputTokens ?? outputTokens
        cacheCreationInputTokens = other.cacheCreationInputTokens ?? cacheCreationInputTokens
        cacheReadInputTokens = other.cacheReadInputTokens ?? cacheReadInputTokens
        cacheCreation = other.cacheCreation ?? cacheCreation
    }

    /// The counts in the gateway's terms: every input token in the prompt, the cached parts named.
    package var usage: Usage {
        let oneHour = cacheCreation?.ephemeral1h.count ?? 0
        let writes = cacheCreationInputTokens?.value ?? TokenCount.sum(cacheCreation?.ephemeral5m.count ?? 0, oneHour)
        let fiveMinutes = cacheCreation?.ephemeral5m?.value ?? max(0, writes - oneHour)
        return Usage(
            promptTokens: TokenCount.sum(TokenCount.sum(inputTokens.count, cacheReadInputTokens.count), writes),
            completionTokens: outputTokens.count,
            cachedTokens: cacheReadInputTokens?.value,
            cacheWriteTokens: writes > 0 || cacheCreationInputTokens != nil ? fiveMinutes : nil,
            cacheWrite1hTokens: oneHour > 0 ? oneHour : nil)
    }
}
