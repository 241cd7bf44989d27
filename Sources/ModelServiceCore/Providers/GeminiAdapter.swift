import Foundation
import AsyncHTTPClient
import NIOCore

/// Google's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`) keyed by `x-goog-api-key`.
public struct GeminiAdapter: ProviderAdapter {
    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat, .embeddings]

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        let body = try ProviderJSON.encodeBuffer(GeminiTranslator.body(for: request))
        let url = Self.url(for: target, method: "generateContent")
        let answer = try await client.send(.jsonPost(url: url, headers: headers(for: target), body: body), apiKey: target.apiKey)
        let decoded = try ProviderJSON.decodeUpstream(GeminiResponse.self, from: answer)
        return GeminiTranslator.response(from: decoded, model: target.upstreamModel)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        let body = try ProviderJSON.encodeBuffer(GeminiTranslator.body(for: request))
        let url = Self.url(for: target, method: "streamGenerateContent?alt=sse")
        let response = try await client.open(.jsonPost(url: url, headers: headers(for: target), body: body), apiKey: target.apiKey)
        let decoder = GeminiStreamDecoder(model: target.upstreamModel, forwardUsage: request.wantsStreamUsage, apiKey: target.apiKey, maxLineBytes: client.maxLineBytes)
        return ChatChunkStream(body: response.body, decoder: decoder, apiKey: target.apiKey)
    }

    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        await validateByGet(url: target.url("/v1beta/models"), headers: headers(for: target), apiKey: target.apiKey, client: client)
    }

    /// `:batchEmbedContents`; Gemini reports no token count for embeddings (the gateway estimates).
    package func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws
        -> EmbeddingsAnswer
    {
        let texts = try request.texts(for: .gemini)
        let modelPath = "models/\(Self.modelName(target))"
        var requests: [JSONValue] = []
        for text in texts {
            var item: [String: JSONValue] = ["model": .string(modelPath), "content": .object(["parts": .array([.object(["text": .string(text)])])])]
            if let dimensions = request.dimensions { item["outputDimensionality"] = .number(Double(dimensions)) }
            requests.append(.object(item))
        }
        let body = try ProviderJSON.encodeBuffer(JSONValue.object(["requests": .array(requests)]))
        let url = Self.url(for: target, method: "batchEmbedContents")
        let answer = try await client.send(.jsonPost(url: url, headers: headers(for: target), body: body), apiKey: target.apiKey)
        struct Reply: Decodable {
            struct Embedding: Decodable { var values: [Float] }
            var embeddings: [Embedding]
        }
        let reply = try ProviderJSON.decodeUpstream(Reply.self, from: answer)
        return .translated(EmbeddingVectors(vectors: reply.embeddings.map(\.values), usage: nil))
    }

    package func headers(for target: UpstreamTarget) -> [(String, String)] {
        [("x-goog-api-key", target.keyValue)]
    }

    /// `{base}/v1beta/models/{model}:{method}`, the model's id escaped once, here, for every method.
    package static func url(for target: UpstreamTarget, method: String) -> String {
        let name = modelName(target)
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", ":"])) ?? name
        return target.url("/v1beta/models/\(escaped):\(method)")
    }

    /// The model's id without a `models/` prefix (the registry may hold either form).
    private static func modelName(_ target: UpstreamTarget) -> String {
        var model = Substring(target.upstreamModel)
        if model.hasPrefix("models/") { model = model.dropFirst("models/".count) }
        return String(model)
    }
}

/// Translates Gemini's SSE stream, where each event is a whole response holding only the new parts.
package struct GeminiStreamDecoder: ChatStreamDecoder {
    private var parser: ServerSentEventParser
    private var builder: ChunkBuilder
    private let forwardUsage: Bool
    private let apiKey: Secret?
    private var started = false
    private var toolCount = 0
    private var finished = false
    package private(set) var usage: Usage?

    package init(model: String, forwardUsage: Bool, apiKey: Secret?, maxLineBytes: Int = ServerSentEventParser.defaultMaxLineBytes) {
        self.builder = ChunkBuilder(model: model)
        self.forwardUsage = forwardUsage
        self.apiKey = apiKey
        self.parser = ServerSentEventParser(maxLineBytes: maxLineBytes)
    }

    package mutating func decode(_ bytes: ByteBuffer) throws -> [ChatCompletionChunk] {
        try handle(try parser.push(bytes))
    }

    package mutating func finish() throws -> [ChatCompletionChunk] {
        var chunks = try handle(parser.finish())
        guard finished else { throw ProviderError.invalidResponse("the stream ended before a finishReason") }
        if forwardUsage, let usage { chunks.append(builder.usageChunk(usage)) }
        return chunks
    }

    private mutating func handle(_ events: [ServerSentEvent]) throws -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        for event in events {
            let answer = try ProviderJSON.decodeUpstream(GeminiResponse.self, from: event.data)
            if let error = answer.error {
                throw ProviderError.fromStreamError(type: error.status, message: error.message, apiKey: apiKey)
            }
            if let metadata = answer.usageMetadata { usage = metadata.usage }
            if !started {
                started = true
                if let id = answer.responseId { builder.id = id }
                if let model = answer.modelVersion { builder.model = model }
                chunks.append(builder.roleChunk())
            }
            guard let candidate = answer.candidates?.first else {
                if answer.promptFeedback?.blockReason != nil, !finished {
                    finished = true
                    chunks.append(builder.finish("content_filter"))
                }
                continue
            }
            for part in candidate.content?.parts ?? [] {
                if part.thought == true {
                    // Thoughts stream as reasoning, apart from the answer's text (as the non-streamed answer carries them).
                    if let text = part.text, !text.isEmpty { chunks.append(builder.delta(.init(reasoningContent: text))) }
                } else if let call = part.functionCall {
                    let delta = ChatCompletionChunk.ToolCallDelta(
                        index: toolCount,
                        id: "call_\(toolCount)",
                        name: call.name,
                        arguments: (call.args ?? .object([:])).jsonText
                    )
                    toolCount += 1
                    chunks.append(builder.delta(.init(toolCalls: [delta])))
                } else if let text = part.text, !text.isEmpty {
                    chunks.append(builder.text(text))
                }
            }
            if let reason = GeminiTranslator.finishReason(candidate.finishReason, sawFunctionCall: toolCount > 0), !finished {
                finished = true
                chunks.append(builder.finish(reason))
            }
        }
        return chunks
    }
}
