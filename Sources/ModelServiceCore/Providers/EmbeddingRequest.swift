import NIOCore

/// What the gateway reads of an OpenAI embeddings request; the rest is relayed as sent.
public struct EmbeddingRequest: Decodable, Sendable {
    public var model: String
    public var input: Input
    /// `float` (default) or `base64`; the official Python SDK asks `base64` unless told otherwise.
    public var encodingFormat: String?
    public var dimensions: Int?
    public var user: String?
    /// The client's JSON as sent, for providers it is relayed to. Not decoded.
    package var clientJSON: ByteBuffer?

    /// OpenAI accepts a string, strings, a token array or token arrays.
    public enum Input: Decodable, Sendable {
        case texts([String])
        case tokens([[Int]])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .texts([text])
            } else if let texts = try? container.decode([String].self) {
                self = .texts(texts)
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokens([tokens])
            } else {
                self = .tokens(try container.decode([[Int]].self))
            }
        }

        public var count: Int {
            switch self {
            case .texts(let texts): texts.count
            case .tokens(let tokens): tokens.count
            }
        }
    }

    package enum CodingKeys: String, CodingKey {
        case model, input, dimensions, user
        case encodingFormat = "encoding_format"
    }

    /// The texts to embed, for a provider that takes text only (token arrays are OpenAI's alone).
    package func texts(for provider: ProviderKind) throws -> [String] {
        guard case .texts(let texts) = input else {
            throw ProviderError.invalidRequest("input: token arrays cannot be sent to the \(provider.rawValue) provider; send text")
        }
        return texts
    }

    /// Most inputs in one call, as OpenAI allows.
    public static let maxInputs = 2048
    /// Largest text input in characters, well above any provider's per-input token limit.
    public static let maxInputCharacters = 200_000
}
