import Foundation
import Testing

@testable import FakeProviders

@Suite("Gemini generateContent fake")
struct GeminiFakeTests {
    static let headers = ["x-goog-api-key": "AIza-good"]

    static func body(tools: Bool = false) -> [String: Any] {
        var body: [String: Any] = [
            "systemInstruction": ["parts": [["text": "Answer well."]]],
            "contents": [["role": "user", "parts": [["text": "what is up"]]]],
        ]
        if tools { body["tools"] = [["functionDeclarations": [["name": "get_weather"]]]] }
        return body
    }

    static func url(_ server: RunningFakeProviders, _ model: String, _ method: String = "generateContent") -> String {
        server.baseURL(.gemini) + "/v1beta/models/\(model):\(method)"
    }

    @Test("routes the colon path and answers candidates with usageMetadata")
    func echo() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server, "gemini-2.0-flash"), headers: Self.headers, json: Self.body())
            #expect(result.status == 200)
            let candidate = (result.json["candidates"] as? [[String: Any]])?.first
            let content = candidate?["content"] as? [String: Any]
            #expect(content?["role"] as? String == "model")
            #expect((content?["parts"] as? [[String: Any]])?.first?["text"] as? String == "Echo from gemini: what is up")
            #expect(candidate?["finishReason"] as? String == "STOP")
            let usage = result.json["usageMetadata"] as? [String: Any]
            #expect(usage?["promptTokenCount"] as? Int == 5)
            #expect(usage?["candidatesTokenCount"] as? Int == 6)
            #expect(usage?["totalTokenCount"] as? Int == 11)
            let recorded = try #require(await server.recorder.last(provider: .gemini))
            #expect(recorded.path == "/gemini/v1beta/models/gemini-2.0-flash:generateContent")
            #expect(recorded.headers["x-goog-api-key"] == "AIza-good")
        }
    }

    @Test("streams SSE partial responses, the last with finishReason and usage")
    func stream() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server, "gemini-pro", "streamGenerateContent") + "?alt=sse", headers: Self.headers, json: Self.body())
            #expect(result.status == 200)
            let chunks = result.sseData
            let texts = chunks.compactMap {
                (((($0["candidates"] as? [[String: Any]])?.first?["content"] as? [String: Any])?["parts"] as? [[String: Any]])?.first?["text"] as? String)
            }
            #expect(texts.count == 6)
            #expect(texts.joined() == "Echo from gemini: what is up")
            #expect((chunks.last?["candidates"] as? [[String: Any]])?.first?["finishReason"] as? String == "STOP")
            #expect((chunks.last?["usageMetadata"] as? [String: Any])?["totalTokenCount"] as? Int == 11)
            #expect(chunks.dropLast().allSatisfy { $0["usageMetadata"] == nil })
        }
    }

    @Test("accepts the key query parameter; a bad key is a 400 API_KEY_INVALID naming it, no key a 403, as Gemini answers")
    func keys() async throws {
        try await FakeHTTP.withServer { server in
            let byQuery = try await FakeHTTP.send(Self.url(server, "gemini-pro") + "?key=AIza-q", json: Self.body())
            #expect(byQuery.status == 200)
            let bad = try await FakeHTTP.send(Self.url(server, "gemini-pro"), headers: ["x-goog-api-key": "bad-gem-key"], json: Self.body())
            #expect(bad.status == 400)
            let error = bad.json["error"] as? [String: Any]
            #expect(error?["code"] as? Int == 400)
            #expect(error?["status"] as? String == "INVALID_ARGUMENT")
            #expect(((error?["details"] as? [[String: Any]])?.first?["reason"] as? String) == "API_KEY_INVALID")
            #expect((error?["message"] as? String)?.contains("bad-gem-key") == true)
            let missing = try await FakeHTTP.send(Self.url(server, "gemini-pro"), json: Self.body())
            #expect(missing.status == 403)
        }
    }

    @Test("error models answer in Gemini's error shape")
    func errorModels() async throws {
        try await FakeHTTP.withServer { server in
            for (model, status, name) in [("g-error-400", 400, "INVALID_ARGUMENT"), ("g-error-500", 500, "INTERNAL"), ("g-rate-limit", 429, "RESOURCE_EXHAUSTED")] {
                let result = try await FakeHTTP.send(Self.url(server, model), headers: Self.headers, json: Self.body())
                #expect(result.status == status)
                let error = result.json["error"] as? [String: Any]
                #expect(error?["code"] as? Int == status)
                #expect(error?["status"] as? String == name)
                if status == 429 { #expect(result.header("retry-after") == "7") }
            }
        }
    }

    @Test("answers a functionCall for tool models, lists models, rejects unknown methods")
    func toolsAndModels() async throws {
        try await FakeHTTP.withServer { server in
            let tool = try await FakeHTTP.send(Self.url(server, "gemini-tool"), headers: Self.headers, json: Self.body(tools: true))
            let part = ((((tool.json["candidates"] as? [[String: Any]])?.first?["content"] as? [String: Any])?["parts"] as? [[String: Any]])?.first)
            let call = part?["functionCall"] as? [String: Any]
            #expect(call?["name"] as? String == "get_weather")
            #expect((call?["args"] as? [String: Any])?["city"] as? String == "Paris")
            let models = try await FakeHTTP.get(server.baseURL(.gemini) + "/v1beta/models", headers: Self.headers)
            #expect((models.json["models"] as? [[String: Any]])?.first?["name"] as? String == "models/fake-echo")
            let unknown = try await FakeHTTP.send(Self.url(server, "gemini-pro", "countTokens"), headers: Self.headers, json: Self.body())
            #expect(unknown.status == 404)
        }
    }
}
