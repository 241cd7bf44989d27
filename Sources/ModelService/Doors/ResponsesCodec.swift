import Foundation
import ModelServiceCore
import NIOCore

/// The codec of `/v1/responses`: OpenAI's Responses API relayed as sent to the providers that have it;
/// the answer and its `response.*` events come back as the upstream's bytes with `model` set to the
/// registry name, the usage read from the response object.
struct ResponsesCodec: ClientFormat {
    let body: ByteBuffer
    /// Longest line an upstream event may have (`MAX_UPSTREAM_LINE_BYTES`).
    let maxLineBytes: Int

    var capability: ProviderCapability { .responses }

    func upstreamCall(for candidate: Model) throws(ServiceError) -> UpstreamCall { .responses(body) }

    func encode(_ answer: UpstreamAnswer, model: Model, call: Call) throws -> (body: ByteBuffer, usage: Usage?) {
        guard case .relayed(let json) = answer else { throw ProviderError.invalidResponse("not a Responses API answer") }
        return Self.patchModel(json, model: model.name)
    }

    func streamEncoder(model: Model) -> (any StreamEncoder)? {
        ResponsesStreamEncoder(model: model.name, parser: ServerSentEventParser(maxLineBytes: maxLineBytes))
    }

    /// Sets `model` in a response object, or in the `response` object an SSE event carries, and reads its usage.
    static func patchModel(_ json: ByteBuffer, model name: String) -> (body: ByteBuffer, usage: Usage?) {
        guard var editor = JSONObjectEditor(json) else { return (json, nil) }
        if editor.contains("model") {
            editor.set("model", name)
            return (editor.result(), usage(ofResponse: Data(json.readableBytesView)))
        }
        guard let raw = editor.rawValue("response"), var inner = JSONObjectEditor(Array(raw)) else { return (json, nil) }
        let usage = usage(ofResponse: Data(raw))
        if inner.contains("model") {
            inner.set("model", name)
            editor.set("response", json: inner.result().readableBytesView)
        }
        return (editor.result(), usage)
    }

    /// The token counts of a response object (`usage.input_tokens`, `usage.output_tokens`, and their details:
    /// `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`).
    static func usage(ofResponse json: Data) -> Usage? {
        struct Envelope: Decodable {
            struct Counts: Decodable {
                var inputTokens: UpstreamCount?
                var outputTokens: UpstreamCount?
                var inputTokensDetails: Details?
                var outputTokensDetails: Details?
                enum CodingKeys: String, CodingKey {
                    case inputTokens = "input_tokens"
                    case outputTokens = "output_tokens"
                    case inputTokensDetails = "input_tokens_details"
                    case outputTokensDetails = "output_tokens_details"
                }
            }
            struct Details: Decodable {
                var cachedTokens: UpstreamCount?
                var reasoningTokens: UpstreamCount?
                enum CodingKeys: String, CodingKey {
                    case cachedTokens = "cached_tokens"
                    case reasoningTokens = "reasoning_tokens"
                }
            }
            var usage: Counts?
        }
        guard let counts = (try? JSONDecoder().decode(Envelope.self, from: json))?.usage else { return nil }
        return Usage(
            promptTokens: counts.inputTokens.count, completionTokens: counts.outputTokens.count,
            cachedTokens: counts.inputTokensDetails?.cachedTokens?.value, reasoningTokens: counts.outputTokensDetails?.reasoningTokens?.value)
    }
}

/// The upstream's Responses events relayed, `model` patched in each, the usage kept from the last one that
/// carries it; a failure after the first byte is an `error` event, as the Responses API sends.
struct ResponsesStreamEncoder: StreamEncoder {
    let model: String
    var parser: ServerSentEventParser
    private(set) var usage: Usage?

    init(model: String, parser: ServerSentEventParser) {
        self.model = model
        self.parser = parser
    }

    func start() -> ByteBuffer { ByteBuffer() }

    mutating func encode(_ event: UpstreamEvent) throws -> ByteBuffer {
        guard case .bytes(let bytes) = event else { return ByteBuffer() }
        return frames(try parser.push(bytes))
    }

    mutating func finish(usage: Usage?) -> ByteBuffer {
        frames(parser.finish())
    }

    func failure(_ error: ServiceError) -> ByteBuffer {
        var out = ByteBuffer(string: "event: error\ndata: ")
        let event: JSONValue = .object(["type": .string("error"), "code": .string(error.code), "message": .string(error.message)])
        out.writeBytes((try? ProviderJSON.encode(event)) ?? Data("{}".utf8))
        out.writeString("\n\n")
        return out
    }

    private mutating func frames(_ events: [ServerSentEvent]) -> ByteBuffer {
        var out = ByteBuffer()
        for event in events {
            let (json, eventUsage) = ResponsesCodec.patchModel(event.data, model: model)
            if let eventUsage { usage = eventUsage }
            if let name = event.event { out.writeString("event: \(name)\n") }
            out.writeString("data: ")
            out.writeImmutableBuffer(json)
            out.writeString("\n\n")
        }
        return out
    }
}
