/// The parts of a Converse response the gateway reads; every field optional, so a block type added later is skipped.
package struct BedrockResponse: Decodable, Sendable {
    package var output: Output?
    package var stopReason: String?
    package var usage: BedrockUsage?

    package struct Output: Decodable, Sendable {
        package var message: Message?
    }

    package struct Message: Decodable, Sendable {
        package var role: String?
        package var content: [Block]?
    }

    /// One content block: exactly one of these is set by Bedrock.
    package struct Block: Decodable, Sendable {
        package var text: String?
        package var toolUse: ToolUse?
        package var reasoningContent: ReasoningContent?
    }

    package struct ToolUse: Decodable, Sendable {
        package var toolUseId: String?
        package var name: String?
        package var input: JSONValue?
    }

    package struct ReasoningContent: Decodable, Sendable {
        package var reasoningText: ReasoningText?

        package struct ReasoningText: Decodable, Sendable {
            package var text: String?
        }
    }
}

/// Bedrock's token counts (`usage` of a Converse answer, of a stream's `metadata` event).
///
/// Like Anthropic's, `inputTokens` leaves out the prompt-cache reads and writes; the gateway's prompt counts them
/// all, each part kept apart so it is priced at its own rate (as ``AnthropicUsage`` maps them). Every count is read
/// saturating (``UpstreamCount``), so no number an upstream sends can trap.
package struct BedrockUsage: Decodable, Sendable, Equatable {
    package var inputTokens: UpstreamCount?
    package var outputTokens: UpstreamCount?
    package var totalTokens: UpstreamCount?
    package var cacheReadInputTokens: UpstreamCount?
    package var cacheWriteInputTokens: UpstreamCount?

    package init(
        inputTokens: UpstreamCount? = nil, outputTokens: UpstreamCount? = nil, totalTokens: UpstreamCount? = nil,
        cacheReadInputTokens: UpstreamCount? = nil, cacheWriteInputTokens: UpstreamCount? = nil
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.totalTokens = totalTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.cacheWriteInputTokens = cacheWriteInputTokens
    }

    /// The counts in the gateway's terms: every input token in the prompt, cache reads and writes named.
    package var usage: Usage {
        let prompt = TokenCount.sum(TokenCount.sum(inputTokens.count, cacheReadInputTokens.count), cacheWriteInputTokens.count)
        return Usage(
            promptTokens: prompt,
            completionTokens: outputTokens.count,
            cachedTokens: cacheReadInputTokens?.value,
            cacheWriteTokens: cacheWriteInputTokens?.value)
    }
}
