import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// Feeds `text` to a decoder in pieces of `pieceSize` bytes, as a network would, and collects the chunks.
func decodeInPieces(_ decoder: some ChatStreamDecoder, _ text: String, pieceSize: Int = 7) throws -> (chunks: [ChatCompletionChunk], usage: Usage?) {
    var decoder = decoder
    var chunks: [ChatCompletionChunk] = []
    for piece in pieces(of: text, size: pieceSize) {
        chunks += try decoder.decode(piece)
    }
    chunks += try decoder.finish()
    return (chunks, decoder.usage)
}

/// `text` as buffers of `size` bytes (the last may be shorter).
func pieces(of text: String, size: Int) -> [ByteBuffer] {
    let bytes = Array(text.utf8)
    return stride(from: 0, to: bytes.count, by: size).map { start in
        ByteBuffer(bytes: bytes[start..<min(start + size, bytes.count)])
    }
}

/// The text of all content deltas, which must equal the non-streamed answer's text.
func joinedContent(_ chunks: [ChatCompletionChunk]) -> String {
    chunks.flatMap(\.choices).compactMap(\.delta.content).joined()
}

/// The finish reason of the stream (the last non-nil one).
func finishReason(_ chunks: [ChatCompletionChunk]) -> String? {
    chunks.flatMap(\.choices).compactMap(\.finishReason).last
}

/// Encodes a request or body to a JSONValue so tests compare structure, not byte order.
func json(_ value: some Encodable) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: ProviderJSON.encode(value))
}

func decodeRequest(_ text: String) throws -> ChatCompletionRequest {
    try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(text.utf8))
}

func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// A fixed list of buffers as an async byte sequence, to drive `ChatChunkStream` without a network.
struct BufferSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffers: [ByteBuffer]

    struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let buffers: [ByteBuffer]
        mutating func next() async throws -> ByteBuffer? {
            guard index < buffers.count else { return nil }
            defer { index += 1 }
            return buffers[index]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffers: buffers) }
}

/// A request with a system prompt, one user turn and the common sampling fields.
let sampleRequestJSON = """
    {"model":"gw-model","messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"Answer in English."},
    {"role":"user","content":"Hello?"}],"temperature":0.5,"top_p":0.9,"max_tokens":100,"stop":"END","stream":true,
    "stream_options":{"include_usage":true},"some_future_field":{"x":1}}
    """

/// A conversation with a tool call and its result, to test translation both ways.
let toolConversationJSON = """
    {"model":"gw-model","messages":[
    {"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}},
    {"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_a","content":"{\\"temp\\":21}"},
    {"role":"tool","tool_call_id":"call_b","content":"noon"},
    {"role":"user","content":"Thanks"}],
    "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city",
    "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}],
    "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
    """

enum HTTPClientResponseBodyFactory {
    static func make(_ buffers: [ByteBuffer]) -> HTTPClientResponse.Body {
        .stream(BufferSequence(buffers: buffers))
    }
}

extension ProviderError {
    /// The status the gateway answers this adapter failure with, through the one error table.
    var gatewayStatus: Int { ServiceError(self, model: testModel, key: nil).status }
    /// The OpenAI `error.type` it is shown with.
    var gatewayOpenAIType: String { ServiceError(self, model: testModel, key: nil).openAIType }
}

/// A registry model for error messages in adapter tests.
let testModel: Model = {
    let json = #"{"id":"m1","name":"test/m","provider":"openai","modelId":"m","mode":"chat","supportsStreaming":true,"fallbacks":[],"inputCostPer1kTokens":0,"outputCostPer1kTokens":0,"providerSettings":{},"isActive":true,"isDefault":false,"metadata":{},"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z"}"#
    return try! JSONDecoder().decode(Model.self, from: Data(json.utf8))
}()
