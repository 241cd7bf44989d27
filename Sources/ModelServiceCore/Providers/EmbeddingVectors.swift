import Foundation
import NIOCore

/// What an embeddings call answered: the upstream's own OpenAI-format bytes, or vectors to render.
package enum EmbeddingsAnswer: Sendable {
    case relayed(ByteBuffer, usage: Usage?)
    case translated(EmbeddingVectors)
}

/// The embeddings of one call in OpenAI's answer shape, for upstreams of another format.
public struct EmbeddingVectors: Sendable {
    public var vectors: [[Float]]
    /// Nil when the provider reports no token count (Gemini): the gateway then estimates.
    public var usage: Usage?

    /// `{"object":"list","data":[...],"model":...,"usage":...}`, each embedding a float array or, for
    /// `base64`, the little-endian float32 bytes in base64 as OpenAI sends them.
    package func openAIAnswer(model: String, base64: Bool, usage: Usage) throws -> Data {
        enum Embedding: Encodable {
            case floats([Float])
            case base64(String)

            package func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .floats(let values): try container.encode(values)
                case .base64(let text): try container.encode(text)
                }
            }
        }
        struct Item: Encodable {
            package var object = "embedding"
            package var index: Int
            package var embedding: Embedding
        }
        struct Body: Encodable {
            package var object = "list"
            package var data: [Item]
            package var model: String
            package var usage: Usage
        }
        let items = vectors.enumerated().map { index, vector in
            Item(index: index, embedding: base64 ? .base64(Self.base64(vector)) : .floats(vector))
        }
        return try ProviderJSON.encode(Body(data: items, model: model, usage: usage))
    }

    package static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
