import Foundation
import Testing

@testable import FakeProviders

@Suite("Ollama chat fake")
struct OllamaFakeTests {
    static func body(_ model: String = "llama3", stream: Bool? = nil) -> [String: Any] {
        var body: [String: Any] = ["model": model, "messages": [["role": "user", "content": "good morning"]]]
        if let stream { body["stream"] = stream }
        return body
    }

    static func url(_ server: RunningFakeProviders) -> String { server.baseURL(.ollama) + "/api/chat" }

    @Test("answers one object when stream is false, without any key")
    func echo() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server), json: Self.body(stream: false))
            #expect(result.status == 200)
            #expect((result.json["message"] as? [String: Any])?["content"] as? String == "Echo from ollama: good morning")
            #expect(result.json["done"] as? Bool == true)
            #expect(result.json["done_reason"] as? String == "stop")
            #expect(result.json["prompt_eval_count"] as? Int == 2)
            #expect(result.json["eval_count"] as? Int == 5)
        }
    }

    @Test("streams newline-delimited JSON by default")
    func stream() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server), json: Self.body())
            #expect(result.header("content-type") == "application/x-ndjson")
            let lines = result.ndjson
            #expect(lines.dropLast().allSatisfy { $0["done"] as? Bool == false })
            let text = lines.compactMap { ($0["message"] as? [String: Any])?["content"] as? String }.joined()
            #expect(text == "Echo from ollama: good morning")
            #expect(lines.last?["done"] as? Bool == true)
            #expect(lines.last?["eval_count"] as? Int == 5)
        }
    }

    @Test("answers errors as {error: string}, 401 only for a bad key")
    func errors() async throws {
        try await FakeHTTP.withServer { server in
            for (model, status) in [("o-error-400", 400), ("o-error-500", 500), ("o-rate-limit", 429)] {
                let result = try await FakeHTTP.send(Self.url(server), json: Self.body(model, stream: false))
                #expect(result.status == status)
                #expect(result.json["error"] is String)
                if status == 429 { #expect(result.header("retry-after") == "7") }
            }
            let bad = try await FakeHTTP.send(Self.url(server), headers: ["Authorization": "Bearer bad-ollama"], json: Self.body(stream: false))
            #expect(bad.status == 401)
            #expect((bad.json["error"] as? String)?.contains("bad-ollama") == true)
            let recorded = try #require(await server.recorder.last(provider: .ollama))
            #expect(recorded.headers["authorization"] == "Bearer bad-ollama")
            #expect(recorded.bodyObject?["model"] as? String == "llama3")
        }
    }
}
