/// What the gateway reads of a Responses API request; everything else is relayed as sent.
public struct ResponsesRequest: Decodable, Sendable {
    public var model: String
    public var stream: Bool?
    public var user: String?
    /// The client's output limit, for the budget reservation (bounded against the model at admission).
    public var maxOutputTokens: Int?
    public var topLogprobs: Int?

    package enum CodingKeys: String, CodingKey {
        case model, stream, user
        case maxOutputTokens = "max_output_tokens"
        case topLogprobs = "top_logprobs"
    }
}
