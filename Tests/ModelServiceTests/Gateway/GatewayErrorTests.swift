import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Upstream failures map to the right status in OpenAI's error shape, never a 200 or a 500, never with a key.
@Suite struct GatewayErrorTests {
    @Test(arguments: [ProviderKind.openai, .anthropic, .gemini, .azure, .ollama, .bedrock])
    func upstreamErrorsMapToStatuses(provider: ProviderKind) async throws {
        // The mapping of one upstream answer, without retries (RetryFallbackTests covers them): a retried
        // dropped connection could otherwise end as the retry's timeout on a loaded machine.
        try await GatewayHarness.run(extra: ["UPSTREAM_RETRIES": "0"]) { client, _, _ in
            let cases: [(String, Int)] = [("fake-error-400", 400), ("fake-error-500", 502), ("fake-rate-limit", 429), ("fake-hang", 504), ("fake-drop", 502)]
            for (upstream, expected) in cases {
                for stream in [false, true] {
                    let model = GatewayHarness.modelName(provider, upstream)
                    let response = try await client.call(
                        .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: stream),
                        headers: upstream == "fake-hang" ? GatewayHarness.shortDeadline : [:])
                    if upstream == "fake-drop", stream {
                        // The connection drops after the first chunk: the 200 is already sent, so the stream says it failed.
                        #expect(response.status == .ok || response.status.code == 502)
                        if response.status == .ok { #expect(response.body.contains(#""error""#)) }
                        continue
                    }
                    #expect(response.status.code == expected, "\(provider) \(upstream) stream=\(stream): \(response.status) \(response.body)")
                    let error = try decodeJSON(ErrorBody.self, response.body)
                    #expect(!error.error.message.isEmpty)
                    if expected == 429 { #expect(response.headers[.retryAfter] == "7") }
                }
            }
        }
    }

    @Test func aRejectedKeyIsReportedWithoutTheKey() async throws {
        let badKey = "bad-key-0123456789-SECRET-PART"
        try await GatewayHarness.run(extra: ["OPENAI_API_KEY": badKey, "ANTHROPIC_API_KEY": badKey]) { client, _, _ in
            for provider in [ProviderKind.openai, .anthropic] {
                for stream in [false, true] {
                    let response = try await client.call(
                        .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(provider), stream: stream))
                    // 424, not 401: the caller's own token is fine, and SDKs do not retry it.
                    #expect(response.status.code == 424)
                    #expect(!response.body.contains("SECRET-PART"))
                    #expect(try decodeJSON(ErrorBody.self, response.body).error.code == "provider_key_rejected")
                }
            }
        }
    }

    @Test func anUnreachableUpstreamIs502() async throws {
        try await GatewayHarness.run(extra: ["OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "1"]) { client, _, _ in
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false))
            #expect(response.status.code == 502)
            #expect(try decodeJSON(ErrorBody.self, response.body).error.code == "upstream_unreachable")
        }
    }

    @Test func unknownInactiveAndMalformedRequests() async throws {
        try await GatewayHarness.run { client, _, _ in
            let unknown = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "no/such-model", stream: false))
            #expect(unknown.status == .notFound)
            let error = try decodeJSON(ErrorBody.self, unknown.body)
            #expect(error.error.code == "model_not_found" && error.error.type == "invalid_request_error")

            _ = try await client.call(.patch, "/api/models/\(GatewayHarness.modelName(.openai))", json: #"{"isActive": false}"#)
            let inactive = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false))
            #expect(inactive.status == .notFound)

            let noMessages = try await client.call(.post, "/v1/chat/completions", json: #"{"model": "test-xai/fake-echo", "messages": []}"#)
            #expect(noMessages.status == .badRequest && noMessages.body.contains("messages"))
            let badType = try await client.call(.post, "/v1/chat/completions", json: #"{"model": "test-xai/fake-echo", "messages": "hi"}"#)
            #expect(badType.status == .badRequest && badType.body.contains("messages"))
            let noToken = try await client.call(.post, "/v1/chat/completions", token: nil, json: GatewayHarness.chatBody(model: "test-xai/fake-echo", stream: false))
            #expect(noToken.status == .unauthorized)
        }
    }

    @Test func noKeyAnywhereIsAClearErrorNamingProviderAndVariable() async throws {
        try await GatewayHarness.run(withEnvKeys: false) { client, fakes, _ in
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.anthropic), stream: false))
            #expect(response.status == .badRequest)
            let error = try decodeJSON(ErrorBody.self, response.body)
            #expect(error.error.code == "missing_provider_key")
            #expect(error.error.message.contains("anthropic") && error.error.message.contains("ANTHROPIC_API_KEY"))
            #expect(await fakes.recorder.last(provider: "anthropic") == nil)
            // Ollama needs no key.
            let ollama = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.ollama), stream: false))
            #expect(ollama.status == .ok)
        }
    }
}
