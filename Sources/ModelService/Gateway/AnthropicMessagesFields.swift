/// What admission needs from an Anthropic Messages body; the rest stays the client's bytes.
struct AnthropicMessagesFields: Decodable, Sendable {
    var model: String
    var stream: Bool?
    /// The client's output limit, for the budget reservation.
    var maxTokens: Int?
    var metadata: Metadata?

    enum CodingKeys: String, CodingKey {
        case model, stream, metadata
        case maxTokens = "max_tokens"
    }

    struct Metadata: Decodable, Sendable {
        var userId: String?
        enum CodingKeys: String, CodingKey { case userId = "user_id" }
    }
}
