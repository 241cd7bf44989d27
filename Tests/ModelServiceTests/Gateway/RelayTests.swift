import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// OpenAI-format calls are relayed: the client's fields reach the upstream unchanged and in order,
/// only `model` (and the registry's defaults where the client left them out) are the gateway's.
@Suite struct RelayTests {
    /// 20 OpenAI request fields and one the gateway has never heard of.
    static let fields: [(String, String)] = [
        ("logprobs", "true"), ("top_logprobs", "3"), ("parallel_tool_calls", "false"), ("metadata", #"{"team":"search","run":"7"}"#),
        ("store", "true"), ("service_tier", #""flex""#), ("prediction", #"{"type":"content","content":"Hello"}"#), ("seed", "42"),
        ("n", "1"), ("presence_penalty", "0.25"), ("frequency_penalty", "-0.5"), ("logit_bias", #"{"50256":-100}"#),
        ("response_format", #"{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}}"#),
        ("tools", #"[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{}}}}]"#),
        ("tool_choice", #"{"type":"function","function":{"name":"f"}}"#), ("stop", #""END""#), ("user", #""user-42""#),
        ("reasoning_effort", #""low""#), ("modalities", #"["text"]"#), ("top_p", "0.9"), ("web_search_options", #"{}"#),
        ("x_future_field", #"{"nested":[1,"two",{"three":3.0}]}"#),
    ]

    static var clientBody: String {
        let extra = fields.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",")
        return #"{"model":"MODEL","messages":[{"role":"user","content":"Hello there"}],"# + extra + "}"
    }

    @Test func everyFieldReachesTheUpstreamUnchanged() async throws {
        try await GatewayHarness.run { client, fakes, _ in
          for provider in [ProviderKind.openai, .xai, .deepseek, .azure] {
            let model = GatewayHarness.modelName(provider)
            let response = try await client.call(.post, "/v1/chat/completions", json: Self.clientBody.replacingOccurrences(of: "MODEL", with: model))
            #expect(response.status == .ok, "\(response.body)")
            let recorded = try #require(await fakes.recorder.last(provider: provider.rawValue))
            let sent = try #require(recorded.bodyObject)
            for (name, json) in Self.fields {
                // Byte for byte as the client wrote it, not merely an equal value.
                #expect(recorded.bodyString.contains(#""\#(name)":\#(json)"#), "\(name) did not arrive as sent")
                #expect(sent[name] != nil)
            }
            #expect(sent["model"] as? String == "fake-echo")
            // The registry's defaults fill only what the client left out.
            #expect(sent["temperature"] as? Double == 0.5)
            #expect(sent["max_tokens"] as? Int == 300)
            // Nothing reordered: the client's fields come in the order sent, the defaults after them.
            let text = recorded.bodyString
            let positions = (["model", "messages"] + Self.fields.map(\.0) + ["temperature", "max_tokens"]).map { name in
                text.range(of: "\"\(name)\":")?.lowerBound
            }
            #expect(positions.allSatisfy { $0 != nil })
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
            // The answer is the upstream's, with the registry's model name.
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect(answer["model"] as? String == model)
            #expect(response.headers[.init("X-Model-Service-Model")!] == model)
          }
        }
    }

    @Test func streamedChunksCarryTheRegistryNameAndUsageStaysRecorded() async throws {
        try await GatewayHarness.run { client, fakes, components in
            let model = GatewayHarness.modelName(.openai)
            let body = GatewayHarness.chatBody(model: model, stream: true, extra: #", "x_unknown": {"keep": true}"#)
            let response = try await client.call(.post, "/v1/chat/completions", json: body)
            #expect(response.status == .ok)
            let (events, done) = GatewayHarness.events(response.body)
            #expect(done && !events.isEmpty)
            #expect(events.allSatisfy { $0["model"] as? String == model })
            // The client did not ask for usage: no usage chunk, but the upstream was asked and the record has it.
            #expect(events.allSatisfy { $0["usage"] == nil || $0["usage"] is NSNull })
            let sent = try #require(await fakes.recorder.last(provider: "openai")?.bodyObject)
            #expect((sent["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
            #expect((sent["x_unknown"] as? [String: Any])?["keep"] as? Bool == true)
            await components.usage.flush()
            let row = try #require(try await components.database.run { try await $0.raw("SELECT * FROM usage_records").first() })
            #expect(try row.decode(column: "completion_tokens", as: Int.self) > 0)
            #expect(try row.decode(column: "usage_estimated", as: Bool.self) == false)
        }
    }
}
