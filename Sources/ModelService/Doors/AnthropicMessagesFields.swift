import ModelServiceCore
/// What admission needs from an Anthropic Messages body; the rest stays the client's bytes.
package struct AnthropicMessagesFields: Decodable, Sendable {
    package var model: String
    package var stream: Bool?
    /// The client's output limit, for the budget reservation.
    package var maxTokens: Int?
    package var metadata: Metadata?
    package var thinking: Thinking?
    package var topK: Int?

    package enum CodingKeys: String, CodingKey {
        case model, stream, metadata, thinking
        case maxTokens = "max_tokens"
        case topK = "top_k"
    }

    package struct Metadata: Decodable, Sendable {
        package var userId: String?
        package enum CodingKeys: String, CodingKey { case userId = "user_id" }
    }

    package struct Thinking: Decodable, Sendable {
        package var budgetTokens: Int?
        package enum CodingKeys: String, CodingKey { case budgetTokens = "budget_tokens" }
    }

    /// Bounds the integers the gateway passes on, at the door (the output limit against the model, at admission).
    package func validate() throws(ServiceError) {
        if let budget = thinking?.budgetTokens, !(1...TokenCount.max).contains(budget) {
            throw .invalidRequest("thinking.budget_tokens", "must be from 1 to \(TokenCount.max)")
        }
        if let topK = topK, !(1...TokenCount.max).contains(topK) { throw .invalidRequest("top_k", "must be from 1 to \(TokenCount.max)") }
    }
}
