import FakeProviders
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// `POST /v1/messages` and `/v1/messages/count_tokens` over real HTTP to the fake providers: the
/// relay to Anthropic models, translation for the others, Anthropic-shaped errors and usage records.
@Suite struct AnthropicMessagesTests {
    static let apiKey = HTTPField.Name("x-api-key")!
    static let version = HTTPField.Name("anthropic-version")!
    static let beta = HTTPField.Name("anthropic-beta")!

    static func body(model: String, stream: Bool = false, tools: Bool = false, extra: String = "") -> String {
        let toolsJSON =
            tools
            ? #", "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]"#
            : ""
        return """
            {"model": "\(model)", "max_tokens": 100, "stream": \(stream), "system": "You are terse.",
             "messages": [{"role": "user", "content": "Hello there"}]\(toolsJSON)\(extra)}
            """
    }

    /// Each SSE event of an Anthropic stream: its name and data.
    static func events(_ body: String) -> [(name: String, data: [String: Any])] {
        body.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6),
                let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
            else { return nil }
            return (String(name), object)
        }
    }

    static func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    static func streamedText(_ events: [(name: String, data: [String: Any])]) -> String {
        events.compactMap { ($0.data["delta"] as? [String: Any])?["text"] as? String }.joined()
    }

    static func streamedToolInput(_ events: [(name: String, data: [String: Any])]) -> String {
        events.compactMap { ($0.data["delta"] as? [String: Any])?["partial_json"] as? String }.joined()
    }

    /// The usage records once `count` are written: the recorder's own loop may be writing a batch
    /// while the test flushes, so wait for the rows rather than read once.
    static func usageRows(_ components: ServiceComponents, count: Int) async throws -> [any SQLRow] {
        _ = try await eventually(timeout: .seconds(10)) {
            await components.usage.flush()
            return try await components.database.run { try await $0.raw("SELECT id FROM usage_records").all() }.count >= count
        }
        let rows = try await components.database.run { try await $0.raw("SELECT * FROM usage_records ORDER BY at").all() }
        try #require(rows.count == count)
        return rows
    }

    @Test(arguments: TestDatabase.available)
    func relayKeepsTheClientsBytesAndHeadersAndPatchesTheModel(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            let model = GatewayHarness.modelName(.anthropic)
            // No max_tokens, an unknown field, a number spelled 2.50: all must reach Anthropic as written (values byte for
            // byte; JSONObjectEditor writes no whitespace between top-level members, so the body has none there).
            let sent =
                #"{"model": "\#(model)","system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],"#
                + #""messages": [{"role": "user", "content": "Hello there"}],"custom_field": {"nested": [1, 2.50]},"metadata": {"user_id": "u-relay"}}"#
            let plain = try await client.call(
                .post, "/v1/messages", token: nil, json: sent, headers: [Self.apiKey: TestApp.adminToken, Self.beta: "prompt-caching-2024-07-31"])
            #expect(plain.status == .ok, "\(plain.body)")
            let answer = try Self.object(plain.body)
            #expect(answer["model"] as? String == model)
            #expect(((answer["content"] as? [[String: Any]])?.first?["text"] as? String) == "Echo from anthropic: Hello there")
            #expect((answer["usage"] as? [String: Any])?["input_tokens"] as? Int == 5)
            let upstream = try #require(await fakes.recorder.last(provider: .anthropic))
            let expected =
                String(sent.replacingOccurrences(of: "\"\(model)\"", with: "\"fake-echo\"").dropLast()) + #","max_tokens":300,"temperature":0.5}"#
            #expect(upstream.bodyString == expected)
            #expect(upstream.headers["anthropic-version"] == "2023-06-01")
            #expect(upstream.headers["anthropic-beta"] == "prompt-caching-2024-07-31")
            #expect(upstream.headers["x-api-key"] == GatewayHarness.envKey(.anthropic))

            // Streamed, by Bearer, with the client's own version and limits: those are kept, not defaulted.
            let streamed = try await client.call(
                .post, "/v1/messages", json: Self.body(model: model, stream: true, extra: #", "temperature": 1"#),
                headers: [Self.version: "2024-09-09"])
            #expect(streamed.status == .ok)
            #expect(streamed.headers[.contentType] == "text/event-stream")
            let events = Self.events(streamed.body)
            #expect(events.first?.name == "message_start")
            #expect((events.first?.data["message"] as? [String: Any])?["model"] as? String == model)
            #expect(events.last?.name == "message_stop")
            #expect(events.contains { $0.name == "ping" })
            #expect(Self.streamedText(events) == "Echo from anthropic: Hello there")
            #expect(!streamed.body.contains("\"fake-echo\""))
            let streamedUpstream = try #require(await fakes.recorder.last(provider: .anthropic))
            #expect(streamedUpstream.headers["anthropic-version"] == "2024-09-09")
            #expect(streamedUpstream.bodyObject?["max_tokens"] as? Int == 100)
            #expect(streamedUpstream.bodyObject?["temperature"] as? Int == 1)
            #expect(streamedUpstream.bodyObject?["stream"] as? Bool == true)

            // A translated call is recorded the same way.
            let translated = try await client.call(.post, "/v1/messages", json: Self.body(model: GatewayHarness.modelName(.openai)))
            #expect(translated.status == .ok)

            let rows = try await Self.usageRows(components, count: 3)
            #expect(rows.count == 3)  // one record per call, relayed, streamed or translated
            for (index, row) in rows.enumerated() {
                #expect(try row.decode(column: "attempts", as: Int.self) == 1)
                #expect(try row.decode(column: "request_id", as: String?.self) != nil)
                #expect(try row.decode(column: "usage_estimated", as: Bool.self) == false)
                #expect(try row.decode(column: "status", as: Int.self) == 200)
                #expect(try row.decode(column: "prompt_tokens", as: Int.self) == 5)
                #expect(try row.decode(column: "completion_tokens", as: Int.self) == 5)
                #expect(try row.decode(column: "streamed", as: Bool.self) == (index == 1))
                #expect(try row.decode(column: "cost", as: Double.self) > 0)
            }
            #expect(try rows[0].decode(column: "user_id", as: String?.self) == "u-relay")
            #expect(try rows[0].decode(column: "model", as: String.self) == model)
            #expect(try rows[2].decode(column: "provider", as: String.self) == "openai")
        }
    }

    @Test(arguments: [ProviderKind.openai, .azure, .gemini, .ollama])
    func translatedAnswersAndStreamsForEachProviderFamily(provider: ProviderKind) async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let model = GatewayHarness.modelName(provider)
            let echo = "Echo from \(provider.rawValue): Hello there"
            let plain = try await client.call(.post, "/v1/messages", json: Self.body(model: model))
            #expect(plain.status == .ok, "\(plain.body)")
            let answer = try Self.object(plain.body)
            #expect((answer["id"] as? String)?.hasPrefix("msg_") == true)
            #expect(answer["type"] as? String == "message")
            #expect(answer["model"] as? String == model)
            #expect(answer["stop_reason"] as? String == "end_turn")
            #expect(((answer["content"] as? [[String: Any]])?.first?["text"] as? String) == echo)
            #expect(((answer["usage"] as? [String: Any])?["output_tokens"] as? Int ?? 0) > 0)
            let upstream = try #require(await fakes.recorder.last)
            #expect(upstream.provider == provider.rawValue)

            let streamed = try await client.call(.post, "/v1/messages", json: Self.body(model: model, stream: true))
            #expect(streamed.status == .ok)
            let events = Self.events(streamed.body)
            #expect(events.first?.name == "message_start")
            #expect((events.first?.data["message"] as? [String: Any])?["model"] as? String == model)
            #expect(Array(events.suffix(2).map { $0.name }) == ["message_delta", "message_stop"])
            #expect(Self.streamedText(events) == echo)
            #expect(events.allSatisfy { $0.data["type"] as? String == $0.name })

            let toolModel = GatewayHarness.modelName(provider, "fake-tool")
            let toolAnswer = try Self.object(try await client.call(.post, "/v1/messages", json: Self.body(model: toolModel, tools: true)).body)
            #expect(toolAnswer["stop_reason"] as? String == "tool_use")
            let toolUse = try #require((toolAnswer["content"] as? [[String: Any]])?.first { $0["type"] as? String == "tool_use" })
            #expect(toolUse["name"] as? String == "get_weather")
            #expect((toolUse["input"] as? [String: Any])?["city"] as? String == "Paris")

            let toolStream = Self.events(
                try await client.call(.post, "/v1/messages", json: Self.body(model: toolModel, stream: true, tools: true)).body)
            let start = try #require(toolStream.first { ($0.data["content_block"] as? [String: Any])?["type"] as? String == "tool_use" })
            #expect((start.data["content_block"] as? [String: Any])?["name"] as? String == "get_weather")
            #expect(Self.streamedToolInput(toolStream).replacingOccurrences(of: " ", with: "") == #"{"city":"Paris"}"#)
            let delta = try #require(toolStream.first { $0.name == "message_delta" })
            #expect((delta.data["delta"] as? [String: Any])?["stop_reason"] as? String == "tool_use")
        }
    }

    @Test func toolResultTurnAndSystemReachAnOpenAIModelTranslated() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let body = """
                {"model": "\(GatewayHarness.modelName(.openai))", "max_tokens": 50, "system": "You are terse.",
                 "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}], "tool_choice": {"type": "any"},
                 "stop_sequences": ["END"], "metadata": {"user_id": "u-9"},
                 "messages": [
                   {"role": "user", "content": "Weather?"},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"}]}
                 ]}
                """
            let answer = try await client.call(.post, "/v1/messages", json: body)
            #expect(answer.status == .ok, "\(answer.body)")
            let sent = try #require(await fakes.recorder.last(provider: .openai)?.bodyObject)
            #expect(sent["model"] as? String == "fake-echo")
            #expect(sent["max_tokens"] as? Int == 50)
            #expect(sent["stop"] as? [String] == ["END"])
            #expect(sent["user"] as? String == "u-9")
            #expect(sent["tool_choice"] as? String == "required")
            let messages = try #require(sent["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool"])
            #expect(messages[0]["content"] as? String == "You are terse.")
            let call = try #require((messages[2]["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["id"] as? String == "toolu_1")
            #expect((call["function"] as? [String: Any])?["arguments"] as? String == #"{"city":"Paris"}"#)
            #expect(messages[3]["tool_call_id"] as? String == "toolu_1")
            #expect(messages[3]["content"] as? String == "Sunny")
            let tools = try #require(sent["tools"] as? [[String: Any]])
            #expect((tools.first?["function"] as? [String: Any])?["name"] as? String == "get_weather")
        }
    }

    /// The Anthropic error body: `{"type":"error","error":{"type","message"}}`.
    static func anthropicError(_ body: String) throws -> (type: String, message: String) {
        let object = try Self.object(body)
        #expect(object["type"] as? String == "error")
        let error = try #require(object["error"] as? [String: Any])
        return (try #require(error["type"] as? String), try #require(error["message"] as? String))
    }

    @Test func errorsComeInAnthropicsShapeWithTheOpenAIDoorsStatuses() async throws {
        try await GatewayHarness.run { client, _, _ in
            let anthropic = GatewayHarness.modelName(.anthropic)
            let openai = GatewayHarness.modelName(.openai)
            let cases: [(String, HTTPFields, String?, HTTPResponse.Status, String, String?)] = [
                ("no token", [:], Self.body(model: anthropic), .unauthorized, "authentication_error", nil),
                ("wrong x-api-key", [Self.apiKey: "wrong-token"], Self.body(model: anthropic), .unauthorized, "authentication_error", nil),
                (
                    "unknown model", [Self.apiKey: TestApp.adminToken], Self.body(model: "no/such-model"), .notFound, "not_found_error",
                    "no/such-model"
                ),
                ("no model", [Self.apiKey: TestApp.adminToken], #"{"messages": []}"#, .badRequest, "invalid_request_error", "model"),
                ("not JSON", [Self.apiKey: TestApp.adminToken], "{nope", .badRequest, "invalid_request_error", nil),
                (
                    "bad block", [Self.apiKey: TestApp.adminToken],
                    #"{"model": "\#(openai)", "messages": [{"role": "user", "content": [{"type": "video"}]}]}"#, .badRequest, "invalid_request_error",
                    "messages[0].content[0].type"
                ),
                (
                    "upstream 400", [Self.apiKey: TestApp.adminToken], Self.body(model: GatewayHarness.modelName(.anthropic, "fake-error-400")),
                    .badRequest, "invalid_request_error", nil
                ),
                (
                    "upstream 500, relayed", [Self.apiKey: TestApp.adminToken],
                    Self.body(model: GatewayHarness.modelName(.anthropic, "fake-error-500")),
                    .badGateway, "api_error", nil
                ),
                (
                    "upstream 500, translated", [Self.apiKey: TestApp.adminToken],
                    Self.body(model: GatewayHarness.modelName(.gemini, "fake-error-500")),
                    .badGateway, "api_error", nil
                ),
                (
                    "upstream timeout", [Self.apiKey: TestApp.adminToken, .init("X-Stainless-Timeout")!: "1"],
                    Self.body(model: GatewayHarness.modelName(.anthropic, "fake-hang")),
                    .gatewayTimeout, "api_error", nil
                ),
            ]
            for (name, headers, body, status, type, mention) in cases {
                let answer = try await client.call(.post, "/v1/messages", token: nil, json: body, headers: headers)
                #expect(answer.status == status, "\(name): \(answer.body)")
                let error = try Self.anthropicError(answer.body)
                #expect(error.type == type, "\(name)")
                if let mention { #expect(error.message.contains(mention), "\(name): \(error.message)") }
            }
            for model in [anthropic, openai].map({ $0.replacingOccurrences(of: "fake-echo", with: "fake-rate-limit") }) {
                let limited = try await client.call(.post, "/v1/messages", json: Self.body(model: model))
                #expect(limited.status == .tooManyRequests)
                #expect(limited.headers[.retryAfter] == "7")
                #expect(try Self.anthropicError(limited.body).type == "rate_limit_error")
            }
            // x-api-key is Anthropic's header: the OpenAI door does not take it.
            let chat = try await client.call(
                .post, "/v1/chat/completions", token: nil, json: GatewayHarness.chatBody(model: openai, stream: false),
                headers: [Self.apiKey: TestApp.adminToken])
            #expect(chat.status == .unauthorized)
            #expect(try decodeJSON(ErrorBody.self, chat.body).error.code == "unauthorized")
        }
    }

    @Test func aRejectedProviderKeyIsNeverShownRelayedOrTranslated() async throws {
        let badKey = "bad-key-0123456789-SECRET-PART"
        try await GatewayHarness.run(extra: ["OPENAI_API_KEY": badKey, "ANTHROPIC_API_KEY": badKey]) { client, _, _ in
            for provider in [ProviderKind.anthropic, .openai] {
                for stream in [false, true] {
                    let answer = try await client.call(
                        .post, "/v1/messages", json: Self.body(model: GatewayHarness.modelName(provider), stream: stream))
                    // 424, not 401: the client's SDK must neither blame its own token nor retry.
                    #expect(answer.status.code == 424, "\(provider) stream=\(stream)")
                    #expect(try Self.anthropicError(answer.body).type == "api_error")
                    #expect(!answer.body.contains("SECRET-PART"))
                    #expect(answer.headers[.init("x-model-service-error-code")!] == "provider_key_rejected")
                    #expect(try Self.anthropicError(answer.body).message.contains("provider rejected the API key"))
                }
            }
            let count = try await client.call(
                .post, "/v1/messages/count_tokens",
                json: #"{"model": "\#(GatewayHarness.modelName(.anthropic))", "messages": [{"role": "user", "content": "x"}]}"#)
            #expect(count.status.code >= 400)
            #expect(!count.body.contains("SECRET-PART"))
        }
    }

    @Test(arguments: [ProviderKind.anthropic, .openai])
    func aStreamThatBreaksEndsWithAnErrorEventAndIsRecorded(provider: ProviderKind) async throws {
        try await GatewayHarness.run { client, _, components in
            let answer = try await client.call(
                .post, "/v1/messages", json: Self.body(model: GatewayHarness.modelName(provider, "fake-drop"), stream: true))
            if answer.status == .ok {
                let events = Self.events(answer.body)
                #expect(events.first?.name == "message_start")
                let error = try #require(events.last)
                #expect(error.name == "error")
                #expect((error.data["error"] as? [String: Any])?["type"] as? String == "api_error")
            } else {
                // The connection may drop before the response head got through: then it is a plain 502.
                #expect(answer.status == .badGateway)
                #expect(try Self.anthropicError(answer.body).type == "api_error")
            }
            let rows = try await Self.usageRows(components, count: 1)
            #expect(rows.count == 1)  // settled once, from the stream's end
            #expect(try rows[0].decode(column: "status", as: Int.self) == 502)
            #expect(try rows[0].decode(column: "streamed", as: Bool.self))
        }
    }

    @Test func countTokensIsRelayedForAnthropicAndEstimatedForOthers() async throws {
        try await GatewayHarness.run { client, fakes, components in
            let relayed = try await client.call(
                .post, "/v1/messages/count_tokens", token: nil,
                json:
                    #"{"model": "\#(GatewayHarness.modelName(.anthropic))", "system": "You are terse.", "messages": [{"role": "user", "content": "Hello there"}]}"#,
                headers: [Self.apiKey: TestApp.adminToken, Self.beta: "token-counting-2024-11-01"])
            #expect(relayed.status == .ok, "\(relayed.body)")
            #expect(try Self.object(relayed.body)["input_tokens"] as? Int == 5)
            let upstream = try #require(await fakes.recorder.last(provider: .anthropic))
            #expect(upstream.path == "/anthropic/v1/messages/count_tokens")
            #expect(upstream.bodyObject?["model"] as? String == "fake-echo")
            #expect(upstream.headers["anthropic-beta"] == "token-counting-2024-11-01")
            #expect(upstream.headers["anthropic-version"] == "2023-06-01")

            // 14 + 11 characters of text: 25 / 4 rounded up.
            let estimated = try await client.call(
                .post, "/v1/messages/count_tokens",
                json:
                    #"{"model": "\#(GatewayHarness.modelName(.gemini))", "system": "You are terse.", "messages": [{"role": "user", "content": "Hello there"}]}"#
            )
            #expect(estimated.status == .ok)
            #expect(try Self.object(estimated.body)["input_tokens"] as? Int == 7)

            let unknown = try await client.call(.post, "/v1/messages/count_tokens", json: #"{"model": "no/such", "messages": []}"#)
            #expect(unknown.status == .notFound)
            #expect(try Self.anthropicError(unknown.body).type == "not_found_error")
            await components.usage.flush()
            #expect(try await components.database.run { try await $0.raw("SELECT id FROM usage_records").all() }.isEmpty)
        }
    }
}
