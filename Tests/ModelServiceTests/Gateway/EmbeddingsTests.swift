import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `POST /v1/embeddings` on OpenAI, Azure, Gemini and Ollama, in floats and base64, with usage recorded.
@Suite struct EmbeddingsTests {
    static func embeddingModel(_ provider: ProviderKind) -> String { "embed-\(provider.rawValue)/fake-embed" }


    @Test(arguments: TestDatabase.available)
    func embeddingsWorkOnFourProviders(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            for provider in [ProviderKind.openai, .azure, .gemini, .ollama] {
                let created = try await client.call(.post, "/api/models", json: """
                    {"name": "\(Self.embeddingModel(provider))", "provider": "\(provider.rawValue)", "modelId": "fake-embed", "mode": "embedding",
                     "inputCostPer1kTokens": 1, "outputCostPer1kTokens": 0}
                    """)
                #expect(created.status == .created, "\(created.body)")
                #expect(created.body.contains(#""mode":"embedding""#))
            }
            for provider in [ProviderKind.openai, .azure, .gemini, .ollama] {
                let model = Self.embeddingModel(provider)
                let floats = try await client.call(.post, "/v1/embeddings", json: #"{"model": "\#(model)", "input": ["one two three", "four"]}"#)
                #expect(floats.status == .ok, "\(provider): \(floats.body)")
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(floats.body.utf8)) as? [String: Any])
                #expect(answer["model"] as? String == model)
                let data = try #require(answer["data"] as? [[String: Any]])
                #expect(data.count == 2)
                let vector = try #require(data.first?["embedding"] as? [Double])
                #expect(vector.count == 8)

                let base64 = try await client.call(
                    .post, "/v1/embeddings", json: #"{"model": "\#(model)", "input": "one two three", "encoding_format": "base64"}"#)
                #expect(base64.status == .ok, "\(provider): \(base64.body)")
                let encoded = try #require(
                    ((try JSONSerialization.jsonObject(with: Data(base64.body.utf8)) as? [String: Any])?["data"] as? [[String: Any]])?.first?["embedding"] as? String)
                let decoded = try #require(Data(base64Encoded: encoded))
                let values = stride(from: 0, to: decoded.count, by: 4).map { offset in
                    Float(bitPattern: UInt32(littleEndian: decoded[offset..<offset + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
                }
                // The same text gives the same vector in either format.
                #expect(values.count == vector.count)
                #expect(zip(values, vector).allSatisfy { abs(Double($0) - $1) < 1e-6 })
            }
            let gemini = try #require(await fakes.recorder.last(provider: "gemini"))
            #expect(gemini.path.hasSuffix("fake-embed:batchEmbedContents"))
            #expect(await fakes.recorder.last(provider: "ollama")?.path == "/ollama/api/embed")
            #expect(await fakes.recorder.last(provider: "azure")?.path == "/azure/openai/deployments/fake-embed/embeddings")

            await components.usage.flush()
            let rows = try await components.database.run {
                try await $0.raw("SELECT provider, prompt_tokens, cost, usage_estimated, status FROM usage_records ORDER BY at").all()
            }
            #expect(rows.count == 8)
            for row in rows {
                #expect(try row.decode(column: "status", as: Int.self) == 200)
                #expect(try row.decode(column: "prompt_tokens", as: Int.self) > 0)
                #expect(try row.decode(column: "cost", as: Double.self) > 0)
                // Gemini reports no token count for embeddings: estimated, and marked so.
                let isGemini = try row.decode(column: "provider", as: String.self) == "gemini"
                #expect(try row.decode(column: "usage_estimated", as: Bool.self) == isGemini)
            }
        }
    }

    @Test func aChatModelOnTheEmbeddingsDoorAndTheReverseSayWhichEndpoint() async throws {
        try await GatewayHarness.run { client, _, _ in
            _ = try await client.call(.post, "/api/models", json: #"{"name": "e/x", "provider": "openai", "modelId": "fake-embed", "mode": "embedding"}"#)
            let chatOnEmbeddings = try await client.call(.post, "/v1/embeddings", json: #"{"model": "\#(GatewayHarness.modelName(.openai))", "input": "hi"}"#)
            #expect(chatOnEmbeddings.status == .badRequest)
            #expect(chatOnEmbeddings.body.contains("/v1/chat/completions"))
            let embeddingOnChat = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "e/x", stream: false))
            #expect(embeddingOnChat.status == .badRequest)
            #expect(embeddingOnChat.body.contains("/v1/embeddings"))
            let badMode = try await client.call(.post, "/api/models", json: #"{"name": "e/y", "provider": "openai", "modelId": "x", "mode": "image"}"#)
            #expect(badMode.status == .badRequest && badMode.body.contains("mode"))
            let anthropic = try await client.call(.post, "/api/models", json: #"{"name": "e/a", "provider": "anthropic", "modelId": "x", "mode": "embedding"}"#)
            #expect(anthropic.status == .created)
            let unsupported = try await client.call(.post, "/v1/embeddings", json: #"{"model": "e/a", "input": "hi"}"#)
            #expect(unsupported.status == .badRequest && unsupported.body.contains("anthropic"))
            let empty = try await client.call(.post, "/v1/embeddings", json: #"{"model": "e/x", "input": []}"#)
            #expect(empty.status == .badRequest && empty.body.contains("input"))
        }
    }
}
