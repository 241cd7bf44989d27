import Foundation
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, a gateway call exports its request span, its upstream
/// attempt span (GenAI attributes) and its key-resolution span to the collector, all in one trace.
///
/// The only test that turns tracing on: the tracer is installed once per process.
@Suite struct TracingTests {
    @Test func aCallExportsRequestAttemptAndKeySpansWithGenAIAttributes() async throws {
        let receiver = OTLPReceiver()
        try await receiver.run { endpoint in
            let extra = ["OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_BSP_SCHEDULE_DELAY": "50"]
            try await GatewayHarness.run(extra: extra) { client, _, _ in
                let model = GatewayHarness.modelName(.anthropic)
                let answer = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false), headers: [.xRequestId: "trace-request-1"])
                #expect(answer.status == .ok)
                let streamed = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true, extra: #", "stream_options": {"include_usage": true}"#),
                    headers: [.xRequestId: "trace-request-2"])
                #expect(streamed.status == .ok)

                let arrived = try await eventually(timeout: .seconds(30)) {
                    let spans = receiver.received
                    return ["trace-request-1", "trace-request-2"].allSatisfy { id in spans.contains { $0.attributes["model_service.request_id"] == id && $0.name.hasPrefix("chat ") } }
                        && spans.contains { $0.attributes["http.request.header.x_request_id"] == "trace-request-2" }
                }
                #expect(arrived != nil, "spans did not reach the collector")
                let spans = receiver.received
                for requestId in ["trace-request-1", "trace-request-2"] {
                    let request = try #require(spans.first { $0.attributes["http.request.header.x_request_id"] == requestId })
                    #expect(request.attributes["http.route"] == "/v1/chat/completions")
                    let attempt = try #require(spans.first { $0.attributes["model_service.request_id"] == requestId && $0.name == "chat \(model)" })
                    #expect(attempt.traceId == request.traceId)
                    #expect(attempt.parentSpanId == request.spanId)
                    #expect(attempt.attributes["gen_ai.request.model"] == model)
                    #expect(attempt.attributes["gen_ai.operation.name"] == "chat")
                    #expect(attempt.attributes["gen_ai.provider.name"] == "anthropic")
                    #expect(attempt.attributes["gen_ai.system"] == "anthropic")
                    #expect(Int(attempt.attributes["gen_ai.usage.input_tokens"] ?? "") ?? 0 > 0)
                    #expect(Int(attempt.attributes["gen_ai.usage.output_tokens"] ?? "") ?? 0 > 0)
                    let key = try #require(spans.first { $0.attributes["model_service.request_id"] == requestId && $0.name == "gen_ai.key_resolution" })
                    #expect(key.parentSpanId == request.spanId)
                    #expect(key.attributes["model_service.key.source"] == "env")
                }
                let nonStreamed = try #require(spans.first { $0.attributes["model_service.request_id"] == "trace-request-1" && $0.name.hasPrefix("chat ") })
                #expect(nonStreamed.attributes["gen_ai.response.model"] != nil)

                // Never a key, token or prompt in any exported attribute.
                let everything = spans.flatMap { $0.attributes.values }.joined(separator: "\n")
                for secret in [GatewayHarness.envKey(.anthropic), TestApp.adminToken, "Hello there", "You are terse."] {
                    #expect(!everything.contains(secret))
                }
            }
        }
    }

    @Test func tracingIsOffWithoutAnEndpoint() throws {
        let settings = try ObservabilitySettings(environment: [:])
        #expect(!settings.tracingEnabled)
        #expect(try TracingBootstrap.start(settings, logger: TestApp.logger) == nil)
        #expect(throws: ConfigurationError.self) { try ObservabilitySettings(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"]) }
        #expect(throws: ConfigurationError.self) { try ObservabilitySettings(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]) }
    }
}
