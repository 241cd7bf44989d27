/// What the gateway reads of a Responses API request; everything else is relayed as sent.
public struct ResponsesRequest: Decodable, Sendable {
    public var model: String
    public var stream: Bool?
    public var user: String?
}
