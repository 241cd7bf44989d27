import Foundation
import NIOCore

/// Encodes chunks as SSE frames for the gateway's streamed answers.
public enum SSEWriter {
    /// The frame that ends an OpenAI stream.
    public static let doneFrame = "data: [DONE]\n\n"

    /// `doneFrame` as bytes.
    public static var doneBuffer: ByteBuffer { ByteBuffer(string: doneFrame) }

    /// `data: {json}\n\n` for one chunk; the upstream's own bytes when the chunk carries them.
    public static func sseFrame(for chunk: ChatCompletionChunk) throws -> ByteBuffer {
        if let upstream = chunk.upstreamJSON { return frame(upstream) }
        return frame(try ProviderJSON.encode(chunk))
    }

    /// `data: <payload>\n\n`: one SSE event around a single-line JSON payload.
    /// Concrete rather than generic: the HTTP target's encoders call it per chunk, and a generic is not
    /// specialized across the module boundary.
    package static func frame(_ payload: ByteBuffer) -> ByteBuffer {
        frame(count: payload.readableBytes) { $0.writeImmutableBuffer(payload) }
    }

    package static func frame(_ payload: Data) -> ByteBuffer {
        frame(count: payload.count) { $0.writeBytes(payload) }
    }

    private static func frame(count: Int, _ writePayload: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count + 8)
        buffer.writeStaticString("data: ")
        writePayload(&buffer)
        buffer.writeStaticString("\n\n")
        return buffer
    }
}


/// The JSON settings every adapter uses: no escaped slashes (URLs stay readable), nil fields omitted by the types.
package enum ProviderJSON {
    /// The encoder of every answer the service writes itself (API bodies, errors, Anthropic events): sorted
    /// keys, so the same value is always the same bytes.
    package static func sortedEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    package static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    package static func encodeBuffer(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try encode(value))
    }

    package static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
    }

    /// Decodes an upstream body, turning a shape mismatch into `ProviderError.invalidResponse`.
    package static func decodeUpstream<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        do {
            return try decode(type, from: buffer)
        } catch {
            throw ProviderError.invalidResponse("cannot decode \(T.self): \(Self.describe(error))")
        }
    }

    /// A decoding error's path and reason, without the payload.
    package static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "malformed JSON" }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "bad value at '\(path(context.codingPath))'"
        @unknown default: return "malformed JSON"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        JSONBody.path(keys)
    }
}
