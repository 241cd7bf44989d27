/// The parts of a Gemini `GenerateContentResponse` the gateway reads (also each streamed event).
package struct GeminiResponse: Decodable {
    package var candidates: [Candidate]?
    package var usageMetadata: UsageMetadata?
    package var modelVersion: String?
    package var responseId: String?
    package var promptFeedback: PromptFeedback?
    package var error: ErrorBody?

    package struct Candidate: Decodable {
        package var content: Content?
        package var finishReason: String?
    }

    package struct Content: Decodable {
        package var role: String?
        package var parts: [Part]?
    }

    package struct Part: Decodable {
        package var text: String?
        package var thought: Bool?
        package var functionCall: FunctionCall?
    }

    package struct FunctionCall: Decodable {
        package var name: String
        package var args: JSONValue?
    }

    package struct UsageMetadata: Decodable {
        package var promptTokenCount: UpstreamCount?
        package var candidatesTokenCount: UpstreamCount?
        package var totalTokenCount: UpstreamCount?
        package var thoughtsTokenCount: UpstreamCount?
        package var cachedContentTokenCount: UpstreamCount?

        /// Thinking tokens are billed as output, so they count as completion tokens.
        package var usage: Usage {
            Usage(
                promptTokens: promptTokenCount.count, completionTokens: TokenCount.sum(candidatesTokenCount.count, thoughtsTokenCount.count),
                totalTokens: totalTokenCount?.value, cachedTokens: cachedContentTokenCount?.value, reasoningTokens: thoughtsTokenCount?.value)
        }
    }

    package struct PromptFeedback: Decodable {
        package var blockReason: String?
    }

    package struct ErrorBody: Decodable {
        package var message: String?
        package var status: String?
    }
}
