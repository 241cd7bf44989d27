import Foundation
import ModelServiceCore
import NIOCore

/// The codec of `/v1/chat/completions` (and the console's test call): OpenAI's chat format both ways.
///
/// A call every candidate of which speaks OpenAI's format is relayed: the client's bytes go up with the
/// gateway's edits, and the answer and its chunks come back as the upstream's bytes with `model` set to the
/// registry name. A candidate of another format gets the request translated, so the request is read in
/// full once, when the call is prepared (a malformed one is then a 400 before anything is reserved).
struct OpenAIChatCodec: ClientFormat {
    /// The client's request: its relay head only (model, limits, user; `messages` empty), or read in full.
    let request: ChatCompletionRequest

    var capability: ProviderCapability { .chat }

    func prepared(for candidates: [Model]) throws(ServiceError) -> any ClientFormat {
        guard let bytes = request.clientJSON, request.messages.isEmpty,
            !candidates.allSatisfy({ ProviderAdapters.speaksOpenAIChat($0.provider) })
        else { return self }
        var full = try JSONBody.decode(ChatCompletionRequest.self, from: Data(bytes.readableBytesView))
        if full.messages.isEmpty { throw ServiceError.invalidField("messages", "must contain at least one message") }
        full.clientJSON = bytes
        return OpenAIChatCodec(request: full)
    }

    func upstreamCall(for candidate: Model) throws(ServiceError) -> UpstreamCall {
        .chat(ChatDefaults.apply(to: request, model: candidate))
    }

    func encode(_ answer: UpstreamAnswer, model: Model, call: Call) throws -> (body: ByteBuffer, usage: Usage?) {
        guard case .chat(var response) = answer else { throw ProviderError.invalidResponse("not a chat completion") }
        // Same wire format: the upstream's bytes with only `model` changed.
        if let relayed = response.upstreamJSON { return (ModelNamePatch.apply(relayed, model: model.name), response.usage) }
        response.model = model.name
        return (try ProviderJSON.encodeBuffer(response), response.usage)
    }

    func streamEncoder(model: Model) -> (any StreamEncoder)? {
        OpenAIChatStreamEncoder(model: model.name, quotedModel: JSONStringBytes.quoted(model.name))
    }
}

/// Chat chunks as OpenAI's SSE: relayed chunks as the upstream's bytes (`model` patched), translated ones
/// encoded, `data: [DONE]` at the end; a failure after the first byte as an `error` object, then `[DONE]`.
struct OpenAIChatStreamEncoder: StreamEncoder {
    let model: String
    /// `model` as a JSON string, patched into every relayed chunk.
    let quotedModel: [UInt8]

    var usage: Usage? { nil }

    func start() -> ByteBuffer { ByteBuffer() }

    func encode(_ event: UpstreamEvent) throws -> ByteBuffer {
        guard case .chunk(var chunk) = event else { return ByteBuffer() }
        if let relayed = chunk.upstreamJSON { return ModelNamePatch.sseFrame(relayed, quotedName: quotedModel) }
        chunk.model = model
        return try SSEWriter.sseFrame(for: chunk)
    }

    func finish(usage: Usage?) -> ByteBuffer { SSEWriter.doneBuffer }

    func failure(_ error: ServiceError) -> ByteBuffer {
        var out = SSEWriter.frame(WireError.json(error, shape: .openAI))
        out.writeImmutableBuffer(SSEWriter.doneBuffer)
        return out
    }
}
