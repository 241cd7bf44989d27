import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// One table of error kinds, rendered in OpenAI's shape on the OpenAI doors.
@Suite struct ErrorKindTests {
    @Test func noKindIsA500OrAStatusSDKsRetryForAKeyProblem() {
        for kind in ServiceError.Kind.allCases {
            let rule = kind.rule
            // Only the service's own fault is a 500; no client mistake or upstream failure is.
            #expect(rule.status != 500 || kind == .internalError, "\(kind)")
            #expect((400..<600).contains(rule.status))
            #expect(!rule.code.isEmpty)
        }
        // A refused provider key must not read as the caller's own auth failure, nor be retried by SDKs.
        let rejected = ServiceError.Kind.providerKeyRejected.rule
        #expect(![401, 403, 408, 409, 429].contains(rejected.status) && rejected.status < 500)
        #expect(rejected.code == "provider_key_rejected")
    }

    @Test func renderedInOpenAIsShape() throws {
        for kind in ServiceError.Kind.allCases {
            let error = ErrorResponse(ServiceError(kind, "message of \(kind)", retryAfter: kind == .rateLimited ? "3" : nil))
            let body = try decodeJSON(ErrorBody.self, String(buffer: WireError.json(error.error, shape: .openAI)))
            #expect(body.error.code == kind.rule.code)
            #expect(body.error.message == "message of \(kind)")
            #expect(!body.error.type.isEmpty)
            #expect(Int(error.status.code) == kind.rule.status)
            if kind == .rateLimited { #expect(error.headers[.retryAfter] == "3") }
        }
    }

    /// Each failure a client can meet on `/v1/chat/completions`, end to end, as OpenAI's error shape.
    @Test func everyFailureKindEndToEnd() async throws {
        let badKey = "bad-key-0123456789-SECRET-PART"
        try await GatewayHarness.run(extra: ["XAI_API_KEY": badKey]) { client, _, _ in
            _ = try await client.call(.post, "/api/models", json: #"{"name": "e/embed", "provider": "openai", "modelId": "fake-echo", "mode": "embedding"}"#)
            _ = try await client.call(.post, "/api/models", json: #"{"name": "limited/one", "provider": "openai", "modelId": "fake-echo", "rateLimitPerDay": 1}"#)
            _ = try await client.call(.post, "/api/models", json: #"{"name": "nostream/x", "provider": "openai", "modelId": "fake-echo", "supportsStreaming": false}"#)
            let user = try decodeJSON(
                AccessTokenTests.Created.self, try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "alice"}"#).body)
            _ = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "limited/one", stream: false))
            let cases: [(String, String, Int, String, [HTTPField.Name: String], String?)] = [
                ("unknown model", GatewayHarness.chatBody(model: "no/such", stream: false), 404, "model_not_found", [:], nil),
                ("wrong endpoint", GatewayHarness.chatBody(model: "e/embed", stream: false), 400, "wrong_endpoint", [:], nil),
                ("no streaming", GatewayHarness.chatBody(model: "nostream/x", stream: true), 400, "invalid_request", [:], nil),
                ("rate limited", GatewayHarness.chatBody(model: "limited/one", stream: false), 429, "rate_limit_exceeded", [:], nil),
                ("other user", GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false), 403, "forbidden", [.init("X-User-Id")!: "bob"], user.token),
                ("key rejected", GatewayHarness.chatBody(model: GatewayHarness.modelName(.xai), stream: false), 424, "provider_key_rejected", [:], nil),
                ("upstream model unknown", GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, "fake-missing"), stream: false), 424, "upstream_model_not_found", [:], nil),
                ("upstream refusal", GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, "fake-error-400"), stream: false), 400, "invalid_request", [:], nil),
                ("upstream rate limit", GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, "fake-rate-limit"), stream: false), 429, "rate_limit_exceeded", [:], nil),
                ("upstream failure", GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, "fake-error-500"), stream: false), 502, "upstream_error", [:], nil),
                ("upstream timeout", GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, "fake-hang"), stream: false), 504, "upstream_timeout", [.init("X-Stainless-Timeout")!: "1"], nil),
            ]
            for (name, body, status, code, headers, token) in cases {
                var fields = HTTPFields()
                for (key, value) in headers { fields[key] = value }
                let response = try await client.call(.post, "/v1/chat/completions", token: token ?? TestApp.adminToken, json: body, headers: fields)
                #expect(Int(response.status.code) == status, "\(name): \(response.body)")
                let error = try decodeJSON(ErrorBody.self, response.body)
                #expect(error.error.code == code, "\(name)")
                #expect(!error.error.message.isEmpty && !error.error.type.isEmpty)
                #expect(!response.body.contains("SECRET-PART"))
                #expect(response.headers[.init("X-Request-Id")!] != nil, "\(name)")
                if name == "key rejected" {
                    // Named by where it came from and its masked prefix, never its value.
                    #expect(error.error.message.contains("XAI_API_KEY") && error.error.message.contains("********"))
                }
                if name == "upstream model unknown" { #expect(error.error.message.contains("fake-missing") && !error.error.message.contains("does not exist or is not active")) }
            }
        }
    }
}
