/// What admission needs from an Anthropic Messages body; the rest stays the client's bytes.
struct AnthropicMessagesFields: Decodable, Sendable {
    var model: String
    var stream: Bool?
    var metadata: Metadata?

    struct Metadata: Decodable, Sendable {
        var userId: String?
        enum CodingKeys: String, CodingKey { case userId = "user_id" }
    }
}
