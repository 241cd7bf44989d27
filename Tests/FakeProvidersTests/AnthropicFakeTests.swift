import Foundation
import Testing

@testable import FakeProviders

@Suite("Anthropic Messages fake")
struct AnthropicFakeTests {
    static let headers = ["x-api-key": "sk-ant-good", "anthropic-version": "2023-06-01"]

    static func body(_ model: String = "claude-x", stream: Bool = false, tools: Bool = false) -> [String: Any] {
        var body: [String: Any] = [
            "model": model, "max_tokens": 100, "system": "You are terse.",
            "messages": [["role": "user", "content": [["type": "text", "text": "tell me a joke"]]]],
        ]
        if stream { body["stream"] = true }
        if tools { body["tools"] = [["name": "get_weather", "input_schema": ["type": "object"]]] }
        return body
    }

    static func url(_ server: RunningFakeProviders) -> String { server.baseURL(.anthropic) + "/v1/messages" }

    @Test("answers a message with usage")
    func echo() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server), headers: Self.headers, json: Self.body())
            #expect(result.status == 200)
            #expect(result.json["type"] as? String == "message")
            let content = (result.json["content"] as? [[String: Any]])?.first
            #expect(content?["text"] as? String == "Echo from anthropic: tell me a joke")
            #expect(result.json["stop_reason"] as? String == "end_turn")
            let usage = result.json["usage"] as? [String: Any]
            #expect(usage?["input_tokens"] as? Int == 7)
            #expect(usage?["output_tokens"] as? Int == 7)
        }
    }

    @Test("streams the named events, text deltas joining to the answer")
    func stream() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server), headers: ["Authorization": "Bearer sk-ant", "anthropic-version": "2023-06-01"], json: Self.body(stream: true))
            #expect(result.status == 200)
            let events = result.sseEvents
            #expect(events.first == "message_start")
            #expect(Array(events.prefix(3)) == ["message_start", "content_block_start", "ping"])
            #expect(Array(events.suffix(3)) == ["content_block_stop", "message_delta", "message_stop"])
            let data = result.sseData
            #expect(((data.first?["message"] as? [String: Any])?["usage"] as? [String: Any])?["input_tokens"] as? Int == 7)
            let texts = data.compactMap { ($0["delta"] as? [String: Any])?["text"] as? String }
            #expect(texts.joined() == "Echo from anthropic: tell me a joke")
            let delta = data.first { $0["type"] as? String == "message_delta" }
            #expect((delta?["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn")
            #expect((delta?["usage"] as? [String: Any])?["output_tokens"] as? Int == 7)
        }
    }

    @Test("streams a tool call as input_json_delta pieces")
    func toolStream() async throws {
        try await FakeHTTP.withServer { server in
            let result = try await FakeHTTP.send(Self.url(server), headers: Self.headers, json: Self.body("claude-tool", stream: true, tools: true))
            let partials = result.sseData.compactMap { ($0["delta"] as? [String: Any])?["partial_json"] as? String }
            #expect(partials.count >= 2)
            #expect(partials.joined() == #"{"city":"Paris"}"#)
            let delta = result.sseData.first { $0["type"] as? String == "message_delta" }
            #expect((delta?["delta"] as? [String: Any])?["stop_reason"] as? String == "tool_use")
            let plain = try await FakeHTTP.send(Self.url(server), headers: Self.headers, json: Self.body("claude-tool", tools: true))
            let block = (plain.json["content"] as? [[String: Any]])?.first
            #expect(block?["type"] as? String == "tool_use")
            #expect((block?["input"] as? [String: Any])?["city"] as? String == "Paris")
        }
    }

    @Test("answers 400 without anthropic-version or max_tokens, 401 for a bad key")
    func validation() async throws {
        try await FakeHTTP.withServer { server in
            let noVersion = try await FakeHTTP.send(Self.url(server), headers: ["x-api-key": "sk-ant"], json: Self.body())
            #expect(noVersion.status == 400)
            #expect(noVersion.json["type"] as? String == "error")
            #expect((noVersion.json["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
            var body = Self.body()
            body["max_tokens"] = nil
            let noMax = try await FakeHTTP.send(Self.url(server), headers: Self.headers, json: body)
            #expect(noMax.status == 400)
            let bad = try await FakeHTTP.send(Self.url(server), headers: ["x-api-key": "bad-ant-key", "anthropic-version": "2023-06-01"], json: Self.body())
            #expect(bad.status == 401)
            #expect((bad.json["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            #expect(((bad.json["error"] as? [String: Any])?["message"] as? String)?.contains("bad-ant-key") == true)
            let missing = try await FakeHTTP.send(Self.url(server), headers: ["anthropic-version": "2023-06-01"], json: Self.body())
            #expect(missing.status == 401)
        }
    }

    @Test("error models answer in Anthropic's error shape")
    func errorModels() async throws {
        try await FakeHTTP.withServer { server in
            for (model, status, type) in [("c-error-400", 400, "invalid_request_error"), ("c-error-500", 500, "api_error"), ("c-rate-limit", 429, "rate_limit_error")] {
                let result = try await FakeHTTP.send(Self.url(server), headers: Self.headers, json: Self.body(model))
                #expect(result.status == status)
                #expect((result.json["error"] as? [String: Any])?["type"] as? String == type)
                if status == 429 { #expect(result.header("retry-after") == "7") }
            }
        }
    }

    @Test("records headers and body, lists models")
    func recording() async throws {
        try await FakeHTTP.withServer { server in
            _ = try await FakeHTTP.send(Self.url(server), headers: Self.headers, json: Self.body())
            let recorded = try #require(await server.recorder.last(provider: "anthropic"))
            #expect(recorded.headers["x-api-key"] == "sk-ant-good")
            #expect(recorded.headers["anthropic-version"] == "2023-06-01")
            #expect(recorded.bodyObject?["max_tokens"] as? Int == 100)
            let models = try await FakeHTTP.get(server.baseURL(.anthropic) + "/v1/models", headers: Self.headers)
            #expect(models.status == 200)
            #expect((models.json["data"] as? [Any])?.isEmpty == false)
        }
    }
}
