import NIOCore

/// A front door's codec: what it asks of a candidate model's provider, and how what comes back is written
/// in the client's wire format (answers, stream frames, errors). One per door; the pipeline does the rest
/// (admission, routing, attempts, the one stream loop, settlement).
package protocol ClientFormat: Sendable {
    /// The provider capability this door needs; a candidate whose provider lacks it is not tried.
    var capability: ProviderCapability { get }

    /// The codec ready for these candidates, before anything is reserved: a request that some candidate
    /// needs translated is read in full here, so a malformed one is a 400 that costs nothing.
    func prepared(for candidates: [Model]) throws(ServiceError) -> any ClientFormat

    /// What one attempt sends to `candidate` (its provider, its defaults).
    func upstreamCall(for candidate: Model) throws(ServiceError) -> UpstreamCall

    /// A whole answer as the client's bytes, with the usage to record (nil: none reported, so estimated).
    func encode(_ answer: UpstreamAnswer, model: Model, call: Call) throws -> (body: ByteBuffer, usage: Usage?)

    /// A fresh encoder for one streamed answer from `model`; nil for a door that never streams.
    func streamEncoder(model: Model) -> (any StreamEncoder)?
}

extension ClientFormat {
    package func prepared(for candidates: [Model]) throws(ServiceError) -> any ClientFormat { self }
}

/// Writes one streamed answer in a client's wire format, event by event. Each step returns the bytes to
/// send (empty for none), so one event is one write.
package protocol StreamEncoder: Sendable {
    /// Frames before the first upstream event.
    mutating func start() -> ByteBuffer
    /// The frames for one upstream event; throws a ``ProviderError`` for an event the upstream sent wrong.
    mutating func encode(_ event: UpstreamEvent) throws -> ByteBuffer
    /// The frames that close the stream, given the usage the upstream reported.
    mutating func finish(usage: Usage?) -> ByteBuffer
    /// A failure after the first byte: the status is already 200, so it is said in the stream.
    func failure(_ error: ServiceError) -> ByteBuffer
    /// The usage read from relayed events themselves (the upstream's own format), when they carry it.
    var usage: Usage? { get }
    /// An upstream error already relayed as the upstream's own event: the call failed, and nothing more is written.
    var relayedFailure: ProviderError? { get }
    /// Set after ``finish(usage:)`` when the relayed stream ended before its answer did: the call failed.
    var truncation: ProviderError? { get }
}

extension StreamEncoder {
    package var relayedFailure: ProviderError? { nil }
    package var truncation: ProviderError? { nil }
}

/// Where the one stream loop writes a streamed answer's frames (the HTTP layer's response body). A plain
/// closure rather than a generic sink: generics are not specialized across the module boundary.
package typealias FrameWriter = (ByteBuffer) async throws -> Void

/// What one attempt sends, in the terms of the capability it uses.
package enum UpstreamCall: Sendable {
    /// A chat completion, canonical (relayed as the client's bytes when `clientJSON` is set and the provider speaks OpenAI).
    case chat(ChatCompletionRequest)
    case embeddings(EmbeddingRequest, clientJSON: ByteBuffer)
    /// OpenAI's Responses API: the client's JSON.
    case responses(ByteBuffer)
    /// Anthropic's Messages API: the client's JSON (defaults added) and its headers.
    case messages(ByteBuffer, headers: AnthropicClientHeaders)
}

/// A whole answer from one attempt.
package enum UpstreamAnswer: Sendable {
    case chat(ChatCompletionResponse)
    case embeddings(EmbeddingsAnswer)
    /// The upstream's own JSON, relayed (Responses, Messages).
    case relayed(ByteBuffer)
}

/// An answer whose body is still being read.
package enum UpstreamStream: Sendable {
    case chat(ChatChunkStream)
    /// The upstream's own events as bytes, relayed (Responses, Messages).
    case relayed(RawEventStream)
}

/// One event of an upstream stream, as the one stream loop hands it to a door's encoder.
package enum UpstreamEvent: Sendable {
    case chunk(ChatCompletionChunk)
    case bytes(ByteBuffer)
}

extension ProviderAdapter {
    /// One non-streamed attempt of `call`.
    package func send(_ call: UpstreamCall, target: UpstreamTarget, client: UpstreamClient) async throws -> UpstreamAnswer {
        switch call {
        case .chat(let request): .chat(try await complete(request, target: target, client: client))
        case .embeddings(let request, let clientJSON): .embeddings(try await embed(request, clientJSON: clientJSON, target: target, client: client))
        case .responses(let body): .relayed(try await responses(body, target: target, client: client))
        case .messages(let body, let headers): .relayed(try await messages(body, path: "/v1/messages", headers: headers, target: target, client: client))
        }
    }

    /// One streamed attempt of `call`, returned once the upstream accepted it.
    package func open(_ call: UpstreamCall, target: UpstreamTarget, client: UpstreamClient) async throws -> UpstreamStream {
        switch call {
        case .chat(let request): .chat(try await stream(request, target: target, client: client))
        case .responses(let body): .relayed(try await openResponses(body, target: target, client: client))
        case .messages(let body, let headers): .relayed(try await openMessages(body, headers: headers, target: target, client: client))
        case .embeddings: throw ProviderError.invalidRequest("embeddings are not streamed")
        }
    }
}
