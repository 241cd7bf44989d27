import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `POST /v1/responses` relayed to OpenAI and Azure, streamed and not, usage settled; others refused by name.
@Suite struct ResponsesTests {
    static func body(_ model: String, stream: Bool) -> String {
        #"{"model": "\#(model)", "input": "Hello responses", "instructions": "Be brief.", "stream": \#(stream), "store": false, "x_new": 1}"#
    }

    @Test(arguments: TestDatabase.available)
    func relayedOnOpenAIAndAzureStreamedAndNot(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            for provider in [ProviderKind.openai, .azure] {
                let model = GatewayHarness.modelName(provider)
                let plain = try await client.call(.post, "/v1/responses", json: Self.body(model, stream: false))
                #expect(plain.status == .ok, "\(provider): \(plain.body)")
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(plain.body.utf8)) as? [String: Any])
                #expect(answer["model"] as? String == model)
                #expect(answer["object"] as? String == "response")
                let sent = try #require(await fakes.recorder.last(provider: provider.rawValue))
                #expect(sent.bodyObject?["model"] as? String == "fake-echo")
                #expect(sent.bodyObject?["x_new"] as? Int == 1)
                #expect(sent.path.hasSuffix("/responses"))

                let streamed = try await client.call(.post, "/v1/responses", json: Self.body(model, stream: true))
                #expect(streamed.status == .ok)
                #expect(streamed.body.contains("event: response.output_text.delta"))
                #expect(streamed.body.contains("event: response.completed"))
                let completed = GatewayHarness.events(streamed.body).events.first { $0["type"] as? String == "response.completed" }
                #expect((completed?["response"] as? [String: Any])?["model"] as? String == model)
            }
            await components.usage.flush()
            let rows = try await components.database.run {
                try await $0.raw("SELECT prompt_tokens, completion_tokens, usage_estimated, streamed, request_id FROM usage_records").all()
            }
            #expect(rows.count == 4)
            for row in rows {
                #expect(try row.decode(column: "prompt_tokens", as: Int.self) == 4)  // "Hello responses" + "Be brief."
                #expect(try row.decode(column: "completion_tokens", as: Int.self) > 0)
                #expect(try row.decode(column: "usage_estimated", as: Bool.self) == false)
                #expect(try row.decode(column: "request_id", as: String?.self) != nil)
            }
        }
    }

    @Test func otherProvidersGetAClearRefusal() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            for provider in [ProviderKind.anthropic, .gemini, .ollama, .xai] {
                let response = try await client.call(.post, "/v1/responses", json: Self.body(GatewayHarness.modelName(provider), stream: false))
                #expect(response.status == .badRequest)
                let error = try decodeJSON(ErrorBody.self, response.body)
                #expect(error.error.code == "unsupported_provider")
                #expect(error.error.message.contains(provider.rawValue))
            }
            #expect(await fakes.recorder.requests.isEmpty)
        }
    }
}
