import AsyncHTTPClient
import NIOCore

/// Ollama's native chat API (`POST {base}/api/chat`), streamed as newline-delimited JSON.
public struct OllamaAdapter: ProviderAdapter {
    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat, .embeddings]

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        let body = try ProviderJSON.encodeBuffer(OllamaTranslator.body(for: request, target: target, streaming: false))
        let answer = try await client.send(.jsonPost(url: target.url("/api/chat"), headers: headers(for: target), body: body), apiKey: target.apiKey)
        let decoded = try ProviderJSON.decodeUpstream(OllamaChatResponse.self, from: answer)
        if let error = decoded.error { throw ProviderError.fromStreamError(type: nil, message: error, apiKey: target.apiKey) }
        return OllamaTranslator.response(from: decoded, model: target.upstreamModel)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        let body = try ProviderJSON.encodeBuffer(OllamaTranslator.body(for: request, target: target, streaming: true))
        let response = try await client.open(.jsonPost(url: target.url("/api/chat"), headers: headers(for: target), body: body), apiKey: target.apiKey)
        let decoder = OllamaStreamDecoder(model: target.upstreamModel, forwardUsage: request.wantsStreamUsage, apiKey: target.apiKey, maxLineBytes: client.maxLineBytes)
        return ChatChunkStream(body: response.body, decoder: decoder, apiKey: target.apiKey)
    }

    /// Ollama has no keys of its own.
    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        .notChecked(reason: "Ollama needs no API key")
    }

    /// `/api/embed`, which counts the prompt's tokens.
    package func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws
        -> EmbeddingsAnswer
    {
        var body: [String: JSONValue] = ["model": .string(target.upstreamModel), "input": .array(try request.texts(for: .ollama).map(JSONValue.string))]
        if let dimensions = request.dimensions { body["dimensions"] = .number(Double(dimensions)) }
        let answer = try await client.send(
            .jsonPost(url: target.url("/api/embed"), headers: headers(for: target), body: try ProviderJSON.encodeBuffer(JSONValue.object(body))),
            apiKey: target.apiKey)
        struct Reply: Decodable {
            var embeddings: [[Float]]
            var promptEvalCount: UpstreamCount?
            enum CodingKeys: String, CodingKey {
                case embeddings
                case promptEvalCount = "prompt_eval_count"
            }
        }
        let reply = try ProviderJSON.decodeUpstream(Reply.self, from: answer)
        return .translated(EmbeddingVectors(vectors: reply.embeddings, usage: reply.promptEvalCount.map { Usage(promptTokens: $0.value, completionTokens: 0) }))
    }

    /// No auth by default; a key, when given (a proxy in front of Ollama), goes as a bearer token.
    package func headers(for target: UpstreamTarget) -> [(String, String)] {
        guard let key = target.apiKey, !key.isEmpty else { return [] }
        return [("authorization", "Bearer \(key.reveal)")]
    }
}

/// Translates Ollama's NDJSON stream; the last line (`done: true`) carries the token counts.
package struct OllamaStreamDecoder: ChatStreamDecoder {
    private var splitter: JSONLinesSplitter
    private var builder: ChunkBuilder
    private let forwardUsage: Bool
    private let apiKey: Secret?
    private var started = false
    private var done = false
    private var toolCount = 0
    package private(set) var usage: Usage?

    package init(model: String, forwardUsage: Bool, apiKey: Secret?, maxLineBytes: Int = ServerSentEventParser.defaultMaxLineBytes) {
        self.builder = ChunkBuilder(model: model)
        self.forwardUsage = forwardUsage
        self.apiKey = apiKey
        self.splitter = JSONLinesSplitter(maxLineBytes: maxLineBytes)
    }

    package mutating func decode(_ bytes: ByteBuffer) throws -> [ChatCompletionChunk] {
        try handle(try splitter.push(bytes))
    }

    package mutating func finish() throws -> [ChatCompletionChunk] {
        let chunks = try handle(splitter.finish())
        guard done else { throw ProviderError.invalidResponse("the stream ended before done") }
        return chunks
    }

    private mutating func handle(_ lines: [ByteBuffer]) throws -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        for line in lines where !done {
            let answer = try ProviderJSON.decodeUpstream(OllamaChatResponse.self, from: line)
            if let error = answer.error {
                throw ProviderError.fromStreamError(type: nil, message: error, apiKey: apiKey)
            }
            if !started {
                started = true
                if let model = answer.model { builder.model = model }
                chunks.append(builder.roleChunk())
            }
            if let text = answer.message?.content, !text.isEmpty {
                chunks.append(builder.text(text))
            }
            for call in OllamaTranslator.toolCalls(answer.message?.toolCalls, startingAt: toolCount) {
                let delta = ChatCompletionChunk.ToolCallDelta(index: toolCount, id: call.id, name: call.function.name, arguments: call.function.arguments)
                toolCount += 1
                chunks.append(builder.delta(.init(toolCalls: [delta])))
            }
            if answer.done == true {
                done = true
                usage = answer.usage
                chunks.append(builder.finish(OllamaTranslator.finishReason(answer.doneReason, sawToolCall: toolCount > 0)))
                if forwardUsage, let usage { chunks.append(builder.usageChunk(usage)) }
            }
        }
        return chunks
    }
}
