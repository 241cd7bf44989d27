import Foundation
import Testing

@testable import FakeProviders

@Suite("OpenAI-format fakes (OpenAI, xAI, DeepSeek)")
struct OpenAIFakeTests {
    static let providers: [FakeProvider] = [.openai, .xai, .deepseek]
    static let auth = ["Authorization": "Bearer sk-good"]

    static func chat(_ model: String, stream: Bool = false, tools: Bool = false) -> [String: Any] {
        var body: [String: Any] = [
            "model": model,
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "hello there world"]],
        ]
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        if tools { body["tools"] = [["type": "function", "function": ["name": "get_weather", "parameters": [:] as [String: Any]]]] }
        return body
    }

    @Test("answers with an echo and word-count usage", arguments: providers)
    func echo(provider: FakeProvider) async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(server.baseURL(provider) + "/chat/completions", headers: Self.auth, json: Self.chat("gpt-4o"))
            #expect(result.status == 200)
            let choice = (result.json["choices"] as? [[String: Any]])?.first
            let message = choice?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "Echo from \(provider.rawValue): hello there world")
            #expect(choice?["finish_reason"] as? String == "stop")
            let usage = result.json["usage"] as? [String: Any]
            #expect(usage?["prompt_tokens"] as? Int == 5)
            #expect(usage?["completion_tokens"] as? Int == 6)
            #expect(usage?["total_tokens"] as? Int == 11)
        }
    }

    @Test("streams one word per chunk, then usage, then [DONE]", arguments: providers)
    func stream(provider: FakeProvider) async throws {
        try await FakeHTTP.withServer { server in
            let url = server.baseURL(provider) + "/chat/completions"
            let result = try await FakeHTTP.send(url, headers: Self.auth, json: Self.chat("gpt-4o", stream: true))
            #expect(result.status == 200)
            #expect(result.header("content-type") == "text/event-stream")
            #expect(result.text.hasSuffix("data: [DONE]\n\n"))
            let chunks = result.sseData
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
            #expect(deltas.count == 6)
            #expect(deltas.joined() == "Echo from \(provider.rawValue): hello there world")
            let last = try #require(chunks.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            #expect((last["usage"] as? [String: Any])?["completion_tokens"] as? Int == 6)
        }
    }

    @Test("streams without a usage chunk unless asked")
    func streamWithoutUsage() async throws {
        try await FakeHTTP.withServer { server in
            var body = Self.chat("gpt-4o")
            body["stream"] = true
            let result = try await FakeHTTP.send(server.baseURL(.openai) + "/chat/completions", headers: Self.auth, json: body)
            #expect(result.sseData.allSatisfy { $0["usage"] == nil })
            #expect(result.sseData.last.flatMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String } == "stop")
        }
    }

    @Test("answers 401 naming the bad key, and 401 without a key")
    func unauthorized() async throws {
        try await FakeHTTP.withServer { server in
            let url = server.baseURL(.openai) + "/chat/completions"
            let bad = try await FakeHTTP.send(url, headers: ["Authorization": "Bearer bad-key-123"], json: Self.chat("gpt-4o"))
            #expect(bad.status == 401)
            let error = bad.json["error"] as? [String: Any]
            #expect((error?["message"] as? String)?.contains("bad-key-123") == true)
            #expect(error?["type"] as? String == "invalid_request_error")
            #expect(error?["code"] as? String == "invalid_api_key")
            let missing = try await FakeHTTP.send(url, json: Self.chat("gpt-4o"))
            #expect(missing.status == 401)
            let models = try await FakeHTTP.get(server.baseURL(.xai) + "/models", headers: ["Authorization": "Bearer bad-x"])
            #expect(models.status == 401)
        }
    }

    @Test("error models answer their status in OpenAI's error shape")
    func errorModels() async throws {
        try await FakeHTTP.withServer { server in
            let url = server.baseURL(.deepseek) + "/chat/completions"
            for (model, status) in [("m-error-400", 400), ("m-error-500", 500), ("m-rate-limit", 429)] {
                let result = try await FakeHTTP.send(url, headers: Self.auth, json: Self.chat(model))
                #expect(result.status == status)
                let error = result.json["error"] as? [String: Any]
                #expect(error?["message"] is String)
                #expect(error?["type"] is String)
                if status == 429 { #expect(result.header("retry-after") == "7") }
            }
        }
    }

    @Test("tool models call get_weather only when tools are offered")
    func toolCall() async throws {
        try await FakeHTTP.withServer { server in
            let url = server.baseURL(.openai) + "/chat/completions"
            let result = try await FakeHTTP.send(url, headers: Self.auth, json: Self.chat("fake-tool", tools: true))
            let choice = (result.json["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "tool_calls")
            let call = ((choice?["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first
            let function = call?["function"] as? [String: Any]
            #expect(function?["name"] as? String == "get_weather")
            #expect(function?["arguments"] as? String == #"{"city":"Paris"}"#)

            let streamed = try await FakeHTTP.send(url, headers: Self.auth, json: Self.chat("fake-tool", stream: true, tools: true))
            let arguments = streamed.sseData.compactMap { chunk -> String? in
                let delta = (chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
                return ((delta?["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any])?["arguments"] as? String
            }
            #expect(arguments.joined() == #"{"city":"Paris"}"#)

            let plain = try await FakeHTTP.send(url, headers: Self.auth, json: Self.chat("fake-tool"))
            #expect(((plain.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String != nil)
        }
    }

    @Test("lists models and records headers and body")
    func modelsAndRecording() async throws {
        try await FakeHTTP.withServer { server in
            let models = try await FakeHTTP.get(server.baseURL(.openai) + "/models", headers: Self.auth)
            #expect(models.status == 200)
            #expect(models.json["object"] as? String == "list")
            #expect((models.json["data"] as? [[String: Any]])?.contains { $0["id"] as? String == "fake-echo" } == true)

            _ = try await FakeHTTP.send(server.baseURL(.xai) + "/chat/completions", headers: Self.auth, json: Self.chat("grok-3"))
            let recorded = try #require(await server.recorder.last(provider: .xai))
            #expect(recorded.method == "POST")
            #expect(recorded.path == "/xai/v1/chat/completions")
            #expect(recorded.headers["authorization"] == "Bearer sk-good")
            #expect(recorded.bodyObject?["model"] as? String == "grok-3")
            #expect(await server.recorder.requests.count == 2)
            #expect(await server.recorder.last(provider: .openai)?.path == "/openai/v1/models")
        }
    }
}
