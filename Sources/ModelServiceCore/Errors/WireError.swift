import Foundation
import NIOCore

/// A ``ServiceError`` as the JSON body each wire format expects; the HTTP layer adds status and headers,
/// and a stream that fails after its first byte writes the same body as an event.
public enum WireError {
    /// The wire shapes of errors.
    public enum Shape: Sendable {
        /// `{"error": {"code", "message", "type"}}`: `/api`, and OpenAI's doors (OpenAI's shape, `code` always set).
        case openAI
        /// `{"type": "error", "error": {"type", "message"}}`: Anthropic's `/v1/messages`.
        case anthropic
    }

    /// The body, keys sorted: the same error is the same bytes every time (401s must not differ at all).
    public static func json(_ error: ServiceError, shape: Shape) -> ByteBuffer {
        let body: JSONValue
        switch shape {
        case .openAI:
            body = .object(["error": .object(["code": .string(error.code), "message": .string(error.message), "type": .string(error.openAIType)])])
        case .anthropic:
            body = .object(["type": .string("error"), "error": .object(["type": .string(error.anthropicType), "message": .string(error.message)])])
        }
        return ByteBuffer(bytes: (try? ProviderJSON.sortedEncoder().encode(body)) ?? Data())
    }
}
