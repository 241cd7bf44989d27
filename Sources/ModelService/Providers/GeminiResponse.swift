/// The parts of a Gemini `GenerateContentResponse` the gateway reads (also each streamed event).
struct GeminiResponse: Decodable {
    var candidates: [Candidate]?
    var usageMetadata: UsageMetadata?
    var modelVersion: String?
    var responseId: String?
    var promptFeedback: PromptFeedback?
    var error: WireError?

    struct Candidate: Decodable {
        var content: Content?
        var finishReason: String?
    }

    struct Content: Decodable {
        var role: String?
        var parts: [Part]?
    }

    struct Part: Decodable {
        var text: String?
        var thought: Bool?
        var functionCall: FunctionCall?
    }

    struct FunctionCall: Decodable {
        var name: String
        var args: JSONValue?
    }

    struct UsageMetadata: Decodable {
        var promptTokenCount: UpstreamCount?
        var candidatesTokenCount: UpstreamCount?
        var totalTokenCount: UpstreamCount?
        var thoughtsTokenCount: UpstreamCount?
        var cachedContentTokenCount: UpstreamCount?

        /// Thinking tokens are billed as output, so they count as completion tokens.
        var usage: Usage {
            Usage(
                promptTokens: promptTokenCount.count, completionTokens: TokenCount.sum(candidatesTokenCount.count, thoughtsTokenCount.count),
                totalTokens: totalTokenCount?.value, cachedTokens: cachedContentTokenCount?.value, reasoningTokens: thoughtsTokenCount?.value)
        }
    }

    struct PromptFeedback: Decodable {
        var blockReason: String?
    }

    struct WireError: Decodable {
        var message: String?
        var status: String?
    }
}
