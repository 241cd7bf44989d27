import Foundation
import Hummingbird

/// Embeddings as OpenAI (`/embeddings`, floats or base64), Azure (per deployment), Gemini
/// (`:batchEmbedContents`, no token count) and Ollama (`/api/embed`) serve them.
///
/// Vectors are deterministic functions of the text, so tests can compare providers and formats.
enum FakeEmbeddingRoutes {
    static let defaultDimensions = 8

    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        let openAI = OpenAIFakeRoutes(provider: .openai)
        router.post("openai/v1/embeddings") { request, _ in
            try await pipeline.json(request, dialect: openAI) { json in try openAIAnswer(json, model: json["model"] as? String) }
        }
        let compatible = OpenAIFakeRoutes(provider: .openaiCompatible)
        router.post("openai-compatible/:server/v1/embeddings") { request, _ in
            try await pipeline.json(request, dialect: compatible) { json in try openAIAnswer(json, model: json["model"] as? String) }
        }
        let azure = OpenAIFakeRoutes(provider: .azure)
        router.post("azure/openai/deployments/:deployment/embeddings") { request, context in
            let deployment = context.parameters.get("deployment")
            return try await pipeline.json(request, dialect: azure) { json in try openAIAnswer(json, model: deployment) }
        }
        let ollama = OllamaFakeRoutes()
        router.post("ollama/api/embed") { request, _ in
            try await pipeline.json(request, dialect: ollama) { json in
                guard let model = json["model"] as? String, !model.isEmpty else { throw FakeFailure.badRequest("model is required") }
                let texts = try inputs(json["input"])
                let dimensions = json["dimensions"] as? Int ?? defaultDimensions
                return FakeJSON.response([
                    "model": model, "embeddings": texts.map { vector($0, dimensions: dimensions) },
                    "total_duration": 1000, "load_duration": 10,
                    "prompt_eval_count": FakeHostile.usageCount(model: model) ?? texts.map(FakeText.wordCount).reduce(0, +) as Any,
                ])
            }
        }
    }

    /// `POST /gemini/v1beta/models/{model}:batchEmbedContents`; every request names the same model, as Gemini insists.
    static func gemini(_ request: Request, model: String, pipeline: FakeChatPipeline) async throws -> Response {
        try await pipeline.json(request, dialect: GeminiFakeRoutes()) { json in
            guard let requests = json["requests"] as? [[String: Any]], !requests.isEmpty else {
                throw FakeFailure.badRequest("* BatchEmbedContentsRequest.requests: requests is not specified")
            }
            var embeddings: [[String: Any]] = []
            for item in requests {
                guard item["model"] as? String == "models/\(model)" else {
                    throw FakeFailure.badRequest("Model in the request must match models/\(model)")
                }
                let parts = (item["content"] as? [String: Any])?["parts"] as? [[String: Any]] ?? []
                let text = parts.compactMap { $0["text"] as? String }.joined()
                let dimensions = item["outputDimensionality"] as? Int ?? defaultDimensions
                embeddings.append(["values": vector(text, dimensions: dimensions)])
            }
            return FakeJSON.response(["embeddings": embeddings])
        }
    }

    private static func openAIAnswer(_ json: [String: Any], model: String?) throws -> Response {
        guard let model, !model.isEmpty else { throw FakeFailure.badRequest("you must provide a model parameter") }
        let texts = try inputs(json["input"])
        let dimensions = json["dimensions"] as? Int ?? defaultDimensions
        let base64 = json["encoding_format"] as? String == "base64"
        let data = texts.enumerated().map { index, text -> [String: Any] in
            let values = vector(text, dimensions: dimensions)
            return ["object": "embedding", "index": index, "embedding": base64 ? encodeBase64(values) as Any : values as Any]
        }
        let tokens: Any = FakeHostile.usageCount(model: model) ?? texts.map(FakeText.wordCount).reduce(0, +) as Any
        return FakeJSON.response(["object": "list", "data": data, "model": model, "usage": ["prompt_tokens": tokens, "total_tokens": tokens]])
    }

    private static func inputs(_ value: Any?) throws(FakeFailure) -> [String] {
        if let text = value as? String { return [text] }
        if let texts = value as? [String], !texts.isEmpty { return texts }
        if let tokens = value as? [Int] { return [tokens.map(String.init).joined(separator: " ")] }
        throw .badRequest("'input' is a required property")
    }

    /// A unit-free deterministic vector: position `i` depends on the text's bytes and `i`.
    static func vector(_ text: String, dimensions: Int) -> [Double] {
        let sum = text.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF }
        return (0..<max(1, dimensions)).map { Double((sum &+ $0 &* 7919) % 1000) / 1000 }
    }

    static func encodeBase64(_ values: [Double]) -> String {
        var bytes: [UInt8] = []
        for value in values {
            withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
