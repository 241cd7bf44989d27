/// What a model does, so each front door refuses a model it cannot call and says which door can.
public enum ModelMode: String, Sendable, Codable, CaseIterable {
    case chat
    case embedding

    /// The endpoint that serves models of this mode, named in refusals.
    public var endpoint: String {
        switch self {
        case .chat: "/v1/chat/completions"
        case .embedding: "/v1/embeddings"
        }
    }
}
