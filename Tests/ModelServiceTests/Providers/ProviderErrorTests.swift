import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct ProviderErrorTests {
    let key = Secret("sk-secret-abcdef")

    @Test func extractsEachFormat() {
        let openAI = ProviderError.fromUpstream(
            status: 400,
            body: buffer(#"{"error":{"message":"bad temperature","type":"invalid_request_error","code":"invalid_value","param":"temperature"}}"#),
            retryAfter: nil,
            apiKey: key
        )
        guard case .upstreamRejected(400, "bad temperature", "invalid_request_error", "invalid_value", nil) = openAI else {
            Issue.record("openai: \(openAI)")
            return
        }
        let anthropic = ProviderError.fromUpstream(
            status: 429,
            body: buffer(#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#),
            retryAfter: "7",
            apiKey: key
        )
        guard case .upstreamRejected(429, "slow down", "rate_limit_error", nil, "7") = anthropic else {
            Issue.record("anthropic: \(anthropic)")
            return
        }
        #expect(anthropic.gatewayStatus == 429)
        #expect(anthropic.gatewayOpenAIType == "rate_limit_error")
        let gemini = ProviderError.fromUpstream(
            status: 400,
            body: buffer(#"{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}"#),
            retryAfter: nil,
            apiKey: key
        )
        guard case .upstreamRejected(400, "API key not valid", "INVALID_ARGUMENT", "400", nil) = gemini else {
            Issue.record("gemini: \(gemini)")
            return
        }
        let ollama = ProviderError.fromUpstream(status: 500, body: buffer(#"{"error":"model crashed"}"#), retryAfter: nil, apiKey: nil)
        guard case .upstreamFailed(500, "model crashed") = ollama else {
            Issue.record("ollama: \(ollama)")
            return
        }
        #expect(ollama.gatewayStatus == 502)
        #expect(ollama.gatewayOpenAIType == "upstream_error")
        let html = ProviderError.fromUpstream(status: 503, body: buffer("<html>busy</html>"), retryAfter: nil, apiKey: nil)
        #expect(html.message == "<html>busy</html>")
    }

    @Test func scrubsTheKeyFromEveryField() {
        let error = ProviderError.fromUpstream(
            status: 401,
            body: buffer(#"{"error":{"message":"Incorrect API key provided: sk-secret-abcdef.","type":"sk-secret-abcdef","code":"invalid_api_key"}}"#),
            retryAfter: nil,
            apiKey: key
        )
        #expect(error.message == "Incorrect API key provided: <redacted>.")
        #expect(!"\(error)".contains("sk-secret-abcdef"))
        #expect(!String(reflecting: error).contains("sk-secret-abcdef"))
        #expect(error.rejectsKey && error.gatewayStatus == 424)
    }

    @Test func statusTable() {
        #expect(ProviderError.timeout.gatewayStatus == 504)
        #expect(ProviderError.timeout.gatewayOpenAIType == "timeout")
        #expect(ProviderError.unreachable("x").gatewayStatus == 502)
        #expect(ProviderError.invalidResponse("x").gatewayStatus == 502)
        #expect(ProviderError.invalidRequest("x").gatewayStatus == 400)
    }
}
