import Foundation
import Testing

@testable import FakeProviders

@Suite("Azure OpenAI fake")
struct AzureFakeTests {
    static var body: [String: Any] { ["messages": [["role": "user", "content": "hi azure"]]] }

    static func url(_ server: RunningFakeProviders, deployment: String, version: Bool = true) -> String {
        server.baseURL(.azure) + "/openai/deployments/\(deployment)/chat/completions" + (version ? "?api-version=2024-10-21" : "")
    }

    @Test("answers with the deployment as model, keyed by api-key")
    func echo() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server, deployment: "my-gpt"), headers: ["api-key": "az-good"], json: Self.body)
            #expect(result.status == 200)
            #expect(result.json["model"] as? String == "my-gpt")
            let message = (result.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "Echo from azure: hi azure")
            let recorded = try #require(await server.recorder.last(provider: .azure))
            #expect(recorded.query == "api-version=2024-10-21")
            #expect(recorded.headers["api-key"] == "az-good")
        }
    }

    @Test("streams pieces that join to the full answer")
    func stream() async throws {
        try await FakeHTTP.withServer { server in
            var body = Self.body
            body["stream"] = true
            let result = try await FakeHTTP.send(Self.url(server, deployment: "dep"), headers: ["api-key": "az-good"], json: body)
            let deltas = result.sseData.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.joined() == "Echo from azure: hi azure")
        }
    }

    @Test("answers 404 without api-version, 401 for a bad key, and the error models")
    func errors() async throws {
        try await FakeHTTP.withServer { server in
            let noVersion = try await FakeHTTP.send(Self.url(server, deployment: "dep", version: false), headers: ["api-key": "k"], json: Self.body)
            #expect(noVersion.status == 404)
            let bad = try await FakeHTTP.send(Self.url(server, deployment: "dep"), headers: ["api-key": "bad-azure-key"], json: Self.body)
            #expect(bad.status == 401)
            #expect(((bad.json["error"] as? [String: Any])?["message"] as? String)?.contains("bad-azure-key") == true)
            let missing = try await FakeHTTP.send(Self.url(server, deployment: "dep"), json: Self.body)
            #expect(missing.status == 401)
            for (deployment, status) in [("d-error-400", 400), ("d-error-500", 500), ("d-rate-limit", 429)] {
                let result = try await FakeHTTP.send(Self.url(server, deployment: deployment), headers: ["api-key": "k"], json: Self.body)
                #expect(result.status == status)
                #expect((result.json["error"] as? [String: Any])?["message"] is String)
                if status == 429 { #expect(result.header("retry-after") == "7") }
            }
        }
    }
}
