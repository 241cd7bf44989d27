import Foundation
import NIOCore

/// Embeddings on each provider: OpenAI and Azure get the client's JSON relayed (only `model`
/// changed); Gemini (`:batchEmbedContents`) and Ollama (`/api/embed`) are translated.
public enum EmbeddingsUpstream {
    /// What came back: the upstream's own OpenAI-format bytes, or vectors to render.
    public enum Answer: Sendable {
        case relayed(ByteBuffer, usage: Usage?)
        case translated(EmbeddingVectors)
    }

    public static func supports(_ provider: ProviderKind) -> Bool {
        [.openai, .azure, .gemini, .ollama].contains(provider)
    }

    public static func embed(
        _ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient
    ) async throws -> Answer {
        switch target.provider {
        case .openai, .azure, .xai, .deepseek:
            guard var editor = JSONObjectEditor(clientJSON) else { throw ProviderError.invalidRequest("the body must be a JSON object") }
            editor.set("model", target.upstreamModel)
            let url: String
            let headers: [(String, String)]
            if target.provider == .azure {
                url = AzureOpenAIAdapter().url(for: target, operation: "embeddings")
                headers = AzureOpenAIAdapter().headers(for: target)
            } else {
                url = target.url("/embeddings")
                headers = OpenAIAdapter().headers(for: target)
            }
            let answer = try await client.send(.jsonPost(url: url, headers: headers, body: editor.result()), apiKey: target.apiKey)
            struct Envelope: Decodable { var usage: Usage? }
            let usage = try ProviderJSON.decodeUpstream(Envelope.self, from: answer).usage
            return .relayed(answer, usage: usage)
        case .gemini:
            return .translated(try await gemini(request, target: target, client: client))
        case .ollama:
            return .translated(try await ollama(request, target: target, client: client))
        case .anthropic:
            throw ProviderError.invalidRequest("the anthropic provider has no embeddings API")
        }
    }

    package static func texts(_ request: EmbeddingRequest, provider: ProviderKind) throws -> [String] {
        guard case .texts(let texts) = request.input else {
            throw ProviderError.invalidRequest("input: token arrays cannot be sent to the \(provider.rawValue) provider; send text")
        }
        return texts
    }

    private static func gemini(_ request: EmbeddingRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> EmbeddingVectors {
        let texts = try texts(request, provider: .gemini)
        let modelPath = "models/\(target.upstreamModel)"
        var requests: [JSONValue] = []
        for text in texts {
            var item: [String: JSONValue] = ["model": .string(modelPath), "content": .object(["parts": .array([.object(["text": .string(text)])])])]
            if let dimensions = request.dimensions { item["outputDimensionality"] = .number(Double(dimensions)) }
            requests.append(.object(item))
        }
        let body = try ProviderJSON.encodeBuffer(JSONValue.object(["requests": .array(requests)]))
        let name = target.upstreamModel.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? target.upstreamModel
        let url = target.url("/v1beta/models/\(name):batchEmbedContents")
        let answer = try await client.send(.jsonPost(url: url, headers: GeminiAdapter().headers(for: target), body: body), apiKey: target.apiKey)
        struct Reply: Decodable {
            package struct Embedding: Decodable { var values: [Float] }
            package var embeddings: [Embedding]
        }
        let reply = try ProviderJSON.decodeUpstream(Reply.self, from: answer)
        // Gemini reports no token count for embeddings.
        return EmbeddingVectors(vectors: reply.embeddings.map(\.values), usage: nil)
    }

    private static func ollama(_ request: EmbeddingRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> EmbeddingVectors {
        let texts = try texts(request, provider: .ollama)
        var body: [String: JSONValue] = ["model": .string(target.upstreamModel), "input": .array(texts.map(JSONValue.string))]
        if let dimensions = request.dimensions { body["dimensions"] = .number(Double(dimensions)) }
        let url = target.url("/api/embed")
        let answer = try await client.send(
            .jsonPost(url: url, headers: OllamaAdapter().headers(for: target), body: try ProviderJSON.encodeBuffer(JSONValue.object(body))),
            apiKey: target.apiKey)
        struct Reply: Decodable {
            package var embeddings: [[Float]]
            package var promptEvalCount: UpstreamCount?
            package enum CodingKeys: String, CodingKey {
                case embeddings
                case promptEvalCount = "prompt_eval_count"
            }
        }
        let reply = try ProviderJSON.decodeUpstream(Reply.self, from: answer)
        return EmbeddingVectors(vectors: reply.embeddings, usage: reply.promptEvalCount.map { Usage(promptTokens: $0.value, completionTokens: 0) })
    }
}
