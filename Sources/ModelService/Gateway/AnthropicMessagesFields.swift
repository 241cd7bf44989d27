/// What admission needs from an Anthropic Messages body; the rest stays the client's bytes.
struct AnthropicMessagesFields: Decodable, Sendable {
    var model: String
    var stream: Bool?
    /// The client's output limit, for the budget reservation.
    var maxTokens: Int?
    var metadata: Metadata?
    var thinking: Thinking?
    var topK: Int?

    enum CodingKeys: String, CodingKey {
        case model, stream, metadata, thinking
        case maxTokens = "max_tokens"
        case topK = "top_k"
    }

    struct Metadata: Decodable, Sendable {
        var userId: String?
        enum CodingKeys: String, CodingKey { case userId = "user_id" }
    }

    struct Thinking: Decodable, Sendable {
        var budgetTokens: Int?
        enum CodingKeys: String, CodingKey { case budgetTokens = "budget_tokens" }
    }

    /// Bounds the integers the gateway passes on, at the door (the output limit against the model, at admission).
    func validate() throws(ServiceError) {
        if let budget = thinking?.budgetTokens, !(1...TokenCount.max).contains(budget) {
            throw .invalidRequest("thinking.budget_tokens", "must be from 1 to \(TokenCount.max)")
        }
        if let topK = topK, !(1...TokenCount.max).contains(topK) { throw .invalidRequest("top_k", "must be from 1 to \(TokenCount.max)") }
    }
}
