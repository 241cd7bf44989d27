/// The parts of a Gemini `GenerateContentResponse` the gateway reads (also each streamed event).
struct GeminiResponse: Decodable {
    var candidates: [Candidate]?
    var usageMetadata: UsageMetadata?
    var modelVersion: String?
    var responseId: String?
    var promptFeedback: PromptFeedback?
    var error: ErrorBody?

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
        var promptTokenCount: Int?
        var candidatesTokenCount: Int?
        var totalTokenCount: Int?
        var thoughtsTokenCount: Int?
        var cachedContentTokenCount: Int?

        /// Thinking tokens are billed as output, so they count as completion tokens.
        var usage: Usage {
            let prompt = promptTokenCount ?? 0
            let completion = (candidatesTokenCount ?? 0) + (thoughtsTokenCount ?? 0)
            return Usage(
                promptTokens: prompt, completionTokens: completion, totalTokens: totalTokenCount ?? prompt + completion,
                cachedTokens: cachedContentTokenCount, reasoningTokens: thoughtsTokenCount)
        }
    }

    struct PromptFeedback: Decodable {
        var blockReason: String?
    }

    struct ErrorBody: Decodable {
        var message: String?
        var status: String?
    }
}
