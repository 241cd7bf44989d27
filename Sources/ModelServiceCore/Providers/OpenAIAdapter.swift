import AsyncHTTPClient
import NIOCore

/// OpenAI (`{base}/chat/completions`, `/embeddings`, `/responses`, keyed by a bearer token): its chat
/// format is also spoken by xAI, DeepSeek and Azure, whose adapters reuse the relay below. A client's
/// OpenAI JSON goes up as sent, with only the gateway's edits.
public struct OpenAIAdapter: ProviderAdapter {
    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat, .embeddings, .responses]
    package var relaysOpenAIChat: Bool { true }

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        try await complete(request, url: target.url("/chat/completions"), headers: headers(for: target), target: target, client: client)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        try await stream(request, url: target.url("/chat/completions"), headers: headers(for: target), target: target, client: client)
    }

    package func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws
        -> EmbeddingsAnswer
    {
        try await relayEmbeddings(clientJSON, url: target.url("/embeddings"), headers: headers(for: target), target: target, client: client)
    }

    package func responses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> ByteBuffer {
        try await client.send(try Self.relayed(body, url: target.url("/responses"), headers: headers(for: target), target: target), apiKey: target.apiKey)
    }

    package func openResponses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> RawEventStream {
        let request = try Self.relayed(body, url: target.url("/responses"), headers: headers(for: target), target: target)
        return RawEventStream(body: try await client.open(request, apiKey: target.apiKey).body, apiKey: target.apiKey)
    }

    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        await validateByGet(url: target.url("/models"), headers: headers(for: target), apiKey: target.apiKey, client: client)
    }

    /// `Authorization: Bearer`, left out when there is no key (self-hosted OpenAI-compatible servers).
    package func headers(for target: UpstreamTarget) -> [(String, String)] {
        guard let key = target.apiKey else { return [] }
        return [("authorization", "Bearer \(key.reveal)")]
    }

    /// The body sent upstream: the client's request with the upstream model, and streams always asking for usage.
    package func upstreamBody(_ request: ChatCompletionRequest, target: UpstreamTarget, streaming: Bool) -> ChatCompletionRequest {
        var body = request
        body.model = target.upstreamModel
        body.stream = streaming ? true : nil
        body.streamOptions = streaming ? .init(includeUsage: true) : nil
        return body
    }

    /// The bytes sent upstream: the client's own JSON relayed with the gateway's edits when there is
    /// one, else the canonical request encoded.
    package func upstreamBytes(_ request: ChatCompletionRequest, target: UpstreamTarget, streaming: Bool) throws -> ByteBuffer {
        guard let clientJSON = request.clientJSON, var editor = JSONObjectEditor(clientJSON) else {
            return try ProviderJSON.encodeBuffer(upstreamBody(request, target: target, streaming: streaming))
        }
        editor.set("model", target.upstreamModel)
        // The fields the gateway manages: the request's value wins (defaults added, `max_tokens` converted).
        Self.sync(&editor, "temperature", request.temperature)
        Self.sync(&editor, "max_tokens", request.maxTokens)
        Self.sync(&editor, "max_completion_tokens", request.maxCompletionTokens)
        if streaming {
            if editor.value("stream", as: Bool.self) != true { editor.set("stream", true) }
            var options = editor.value("stream_options", as: [String: JSONValue].self) ?? [:]
            if options["include_usage"] != .bool(true) {
                options["include_usage"] = .bool(true)
                editor.set("stream_options", options)
            }
        }
        return editor.result()
    }

    private static func sync<T: Codable & Equatable>(_ editor: inout JSONObjectEditor, _ key: String, _ value: T?) {
        switch (editor.contains(key), value) {
        case (true, nil): editor.remove(key)
        case (false, let value?): editor.set(key, value)
        case (true, let value?): if editor.value(key, as: T.self) != value { editor.set(key, value) }
        case (false, nil): break
        }
    }

    package func complete(
        _ request: ChatCompletionRequest,
        url: String,
        headers: [(String, String)],
        target: UpstreamTarget,
        client: UpstreamClient
    ) async throws -> ChatCompletionResponse {
        let body = try upstreamBytes(request, target: target, streaming: false)
        let answer = try await client.send(.jsonPost(url: url, headers: headers, body: body), apiKey: target.apiKey)
        // The client's own JSON went up, so the upstream's goes back as sent: only its usage is read.
        if request.clientJSON != nil, let relayed = ChatCompletionResponse.relayed(answer) { return relayed }
        var response = try ProviderJSON.decodeUpstream(ChatCompletionResponse.self, from: answer)
        response.upstreamJSON = answer
        return response
    }

    /// The client's embeddings JSON relayed with the upstream model; the answer's bytes and its usage.
    package func relayEmbeddings(_ clientJSON: ByteBuffer, url: String, headers: [(String, String)], target: UpstreamTarget, client: UpstreamClient)
        async throws -> EmbeddingsAnswer
    {
        let answer = try await client.send(try Self.relayed(clientJSON, url: url, headers: headers, target: target), apiKey: target.apiKey)
        struct Envelope: Decodable { var usage: Usage? }
        return .relayed(answer, usage: try ProviderJSON.decodeUpstream(Envelope.self, from: answer).usage)
    }

    /// A POST of the client's own JSON with only `model` replaced by the upstream's id.
    package static func relayed(_ clientJSON: ByteBuffer, url: String, headers: [(String, String)], target: UpstreamTarget) throws -> HTTPClientRequest {
        .jsonPost(url: url, headers: headers, body: try target.relayedBody(clientJSON))
    }

    package func stream(
        _ request: ChatCompletionRequest,
        url: String,
        headers: [(String, String)],
        target: UpstreamTarget,
        client: UpstreamClient
    ) async throws -> ChatChunkStream {
        let body = try upstreamBytes(request, target: target, streaming: true)
        let response = try await client.open(.jsonPost(url: url, headers: headers, body: body), apiKey: target.apiKey)
        let decoder = OpenAIStreamDecoder(
            forwardUsage: request.wantsStreamUsage, relay: request.clientJSON != nil, apiKey: target.apiKey, maxLineBytes: client.maxLineBytes)
        return ChatChunkStream(body: response.body, decoder: decoder, apiKey: target.apiKey)
    }
}

/// Reads OpenAI SSE (`data: {chunk}` … `data: [DONE]`), keeping the usage chunk for the record
/// and forwarding it only when the client asked.
package struct OpenAIStreamDecoder: ChatStreamDecoder {
    private var parser: ServerSentEventParser
    private let forwardUsage: Bool
    /// The client sent OpenAI's format: chunks are relayed as bytes and only their usage is read.
    private let relay: Bool
    private let apiKey: Secret?
    package private(set) var usage: Usage?
    private var done = false

    package init(forwardUsage: Bool, relay: Bool = false, apiKey: Secret?, maxLineBytes: Int = ServerSentEventParser.defaultMaxLineBytes) {
        self.forwardUsage = forwardUsage
        self.relay = relay
        self.apiKey = apiKey
        self.parser = ServerSentEventParser(maxLineBytes: maxLineBytes)
    }

    package mutating func decode(_ bytes: ByteBuffer) throws -> [ChatCompletionChunk] {
        try handle(try parser.push(bytes))
    }

    package mutating func finish() throws -> [ChatCompletionChunk] {
        try handle(parser.finish())
    }

    private mutating func handle(_ events: [ServerSentEvent]) throws -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        for event in events where !done {
            if event.data.readableBytesView.elementsEqual("[DONE]".utf8) {
                done = true
                break
            }
            if relay {
                switch ChatCompletionChunk.relayed(event.data, forwardUsage: forwardUsage) {
                case .relay(let bytes, let chunkUsage):
                    if let chunkUsage { usage = chunkUsage }
                    var chunk = ChatCompletionChunk(id: "", created: 0, model: "", choices: [])
                    chunk.upstreamJSON = bytes
                    chunks.append(chunk)
                    continue
                case .drop(let chunkUsage):
                    usage = chunkUsage
                    continue
                case .decode:
                    break
                }
            }
            let envelope = try ProviderJSON.decodeUpstream(Envelope.self, from: event.data)
            if let error = envelope.error {
                throw ProviderError.fromStreamError(type: error.type, message: error.message, apiKey: apiKey)
            }
            guard var chunk = envelope.chunk else { continue }
            var changed = false
            if let chunkUsage = chunk.usage {
                usage = chunkUsage
                if !forwardUsage {
                    if chunk.choices.isEmpty { continue }
                    chunk.usage = nil
                    changed = true
                }
            }
            // Unchanged and on one line: relay the upstream's bytes rather than encode the chunk again
            // (a payload spread over several `data:` lines would need re-framing).
            if !changed, !event.data.readableBytesView.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
                chunk.upstreamJSON = event.data
            }
            chunks.append(chunk)
        }
        return chunks
    }

    /// A chunk, or the `{error: {...}}` object some OpenAI-compatible servers send mid-stream.
    private struct Envelope: Decodable {
        package var chunk: ChatCompletionChunk?
        package var error: StreamError?

        package struct StreamError: Decodable {
            package var message: String?
            package var type: String?
        }

        package enum CodingKeys: String, CodingKey { case error }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            error = try? container.decodeIfPresent(StreamError.self, forKey: .error)
            chunk = error == nil ? try ChatCompletionChunk(from: decoder) : nil
        }
    }
}
