import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The official OpenAI Python SDK drives `/v1/embeddings` (its default base64 and floats) on four
/// providers and `/v1/responses` (plain and streamed) on OpenAI and Azure.
@Suite struct OpenAISDKEmbeddingsResponsesTests {
    static let script = OpenAISDKTests.script.deletingLastPathComponent().appendingPathComponent("openai_embeddings_responses_check.py")

    struct Result: Decodable {
        struct Embedding: Decodable {
            var count: Int
            var dimensions: Int
            var sameAsFloat: Bool
            var model: String
            var promptTokens: Int
        }
        struct Answer: Decodable {
            var text: String
            var model: String
            var inputTokens: Int
            var streamed: String
            var streamedFinalModel: String
        }
        var embeddings: [String: Embedding]
        var responses: [String: Answer]
    }

    @Test(.enabled(if: OpenAISDKTests.enabled, "the openai Python package is not installed (pip install openai)"))
    func officialSDKEmbedsAndCallsResponses() async throws {
        try await GatewayHarness.run { client, _, _ in
            let port = try #require(client.port)
            var embeddingModels: [String] = []
            for provider in [ProviderKind.openai, .azure, .gemini, .ollama] {
                let name = "embed-\(provider.rawValue)/fake-embed"
                let created = try await client.call(.post, "/api/models", json: """
                    {"name": "\(name)", "provider": "\(provider.rawValue)", "modelId": "fake-embed", "mode": "embedding"}
                    """)
                #expect(created.status == .created)
                embeddingModels.append(name)
            }
            let responsesModels = [GatewayHarness.modelName(.openai), GatewayHarness.modelName(.azure)]
            let arguments = ["python3", Self.script.path, "http://127.0.0.1:\(port)/v1", TestApp.adminToken] + embeddingModels + ["--"] + responsesModels
            let (status, output) = try await ChildProcess.outputOffThePool(of: arguments)
            #expect(status == 0, "\(output)")
            let line = try #require(output.split(separator: "\n").last)
            let result = try JSONDecoder().decode(Result.self, from: Data(line.utf8))
            for name in embeddingModels {
                let embedding = try #require(result.embeddings[name])
                #expect(embedding.count == 2 && embedding.dimensions == 8, "\(name)")
                #expect(embedding.sameAsFloat, "\(name): base64 and float answers differ")
                #expect(embedding.model == name && embedding.promptTokens > 0)
            }
            for name in responsesModels {
                let answer = try #require(result.responses[name])
                #expect(answer.text == "Echo from openai: Hello responses")
                #expect(answer.streamed == answer.text)
                #expect(answer.model == name && answer.streamedFinalModel == name)
                #expect(answer.inputTokens == 4)
            }
        }
    }
}
