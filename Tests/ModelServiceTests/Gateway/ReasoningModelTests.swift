import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// OpenAI's reasoning models refuse `max_tokens` and temperatures; the catalog says so in
/// `providerSettings`, and the gateway sends `max_completion_tokens` and no temperature default.
@Suite struct ReasoningModelTests {
    static func catalogReasoningModels() throws -> [String] {
        try CatalogSeeder.catalog().filter { $0.providerSettings.value?["maxTokensField"]?.stringValue == "max_completion_tokens" }
            .compactMap(\.name.value)
    }

    @Test func theCatalogMarksItsOpenAIReasoningModels() throws {
        let names = try Self.catalogReasoningModels()
        #expect(names.contains("openai/o3-mini") && names.contains("openai/o4-mini"))
    }

    @Test func catalogReasoningModelsAnswerWithAndWithoutAClientsMaxTokens() async throws {
        try await GatewayHarness.run { client, fakes, components in
            try await CatalogSeeder(database: components.database, logger: TestApp.logger).seed()
            try await components.registry.reload()
            for name in try Self.catalogReasoningModels() {
                for extra in ["", #", "max_tokens": 50"#, #", "max_completion_tokens": 60"#] {
                    for stream in [false, true] {
                        let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: name, stream: stream, extra: extra))
                        #expect(response.status == .ok, "\(name) \(extra) stream=\(stream): \(response.body)")
                        let sent = try #require(await fakes.recorder.last(provider: "openai")?.bodyObject)
                        #expect(sent["max_tokens"] == nil)
                        #expect(sent["max_completion_tokens"] as? Int != nil)
                        if extra.contains("50") { #expect(sent["max_completion_tokens"] as? Int == 50) }
                        #expect(sent["temperature"] == nil)
                    }
                }
            }
        }
    }

    @Test func withoutTheSettingTheFakeRefusesMaxTokensAsOpenAIDoes() async throws {
        try await GatewayHarness.run { client, _, _ in
            let created = try await client.call(.post, "/api/models", json: #"{"name": "plain/o4-mini", "provider": "openai", "modelId": "o4-mini", "maxTokens": 100}"#)
            #expect(created.status == .created)
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "plain/o4-mini", stream: false))
            #expect(response.status == .badRequest)
            #expect(response.body.contains("max_completion_tokens"))
        }
    }
}
