import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// `/v1/messages` calls settle through the pipeline, so the gateway metrics count them under their
/// own door, and a streamed answer records its time to first token like the chat door's.
@Suite struct AnthropicMetricsTests {
    @Test func messagesCallsAreCountedUnderTheirDoorWithTimeToFirstToken() async throws {
        try await GatewayHarness.run { client, _, _ in
            let relayed = GatewayHarness.modelName(.anthropic)
            let translated = GatewayHarness.modelName(.gemini)
            for (model, stream) in [(relayed, false), (relayed, true), (translated, true)] {
                let answer = try await client.call(.post, "/v1/messages", json: AnthropicMessagesTests.body(model: model, stream: stream))
                #expect(answer.status == .ok, "\(answer.body)")
            }
            let text = try await MetricsTests.scrape(client)
            #expect(MetricsTests.value(text, "model_service_gateway_calls_total", ["model": relayed, "door": "messages", "status_class": "2xx"]) == 2)
            #expect(MetricsTests.value(text, "model_service_gateway_calls_total", ["model": translated, "door": "messages", "status_class": "2xx"]) == 1)
            #expect(MetricsTests.value(text, "gen_ai_server_time_to_first_token_seconds_count", ["gen_ai_request_model": relayed]) == 1)
            #expect(MetricsTests.value(text, "gen_ai_server_time_to_first_token_seconds_count", ["gen_ai_request_model": translated]) == 1)
        }
    }
}
