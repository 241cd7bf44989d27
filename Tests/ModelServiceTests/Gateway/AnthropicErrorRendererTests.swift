import Foundation
import HTTPTypes
import Testing

@testable import ModelService

/// The `/v1/messages` door renders the one error table (``CallError``) with Anthropic's types.
@Suite struct AnthropicErrorRendererTests {
    @Test(arguments: [
        (CallError.Kind.invalidRequest, "invalid_request_error"), (.unknownModel, "not_found_error"), (.wrongEndpoint, "invalid_request_error"),
        (.unsupportedProvider, "invalid_request_error"), (.forbidden, "permission_error"), (.rateLimited, "rate_limit_error"),
        (.noKey, "invalid_request_error"), (.keyUndecryptable, "api_error"), (.keyNotForEndpoint, "invalid_request_error"),
        (.refusedKeyVariable, "invalid_request_error"), (.providerKeyRejected, "api_error"), (.upstreamModelNotFound, "api_error"),
        (.upstreamRejected, "invalid_request_error"), (.upstreamRateLimited, "rate_limit_error"), (.upstreamFailed, "api_error"),
        (.upstreamTimeout, "api_error"), (.upstreamUnreachable, "api_error"), (.upstreamInvalidResponse, "api_error"),
        (.budgetExceeded, "rate_limit_error"), (.providerUnavailable, "overloaded_error"), (.limitsUnavailable, "overloaded_error"),
    ])
    func everyKindHasAnAnthropicTypeAndTheTablesStatus(kind: CallError.Kind, type: String) throws {
        let rendered = AnthropicErrorRenderer.render(CallError(kind, "m"))
        #expect(rendered.type == type)
        #expect(Int(rendered.status.code) == kind.rule.status)
        #expect(rendered.code == kind.rule.code)
        #expect(AnthropicErrorShape.types.contains(rendered.type))
        let body = try JSONDecoder().decode(JSONValue.self, from: AnthropicErrorShape.body(for: rendered))
        #expect(body["type"] == .string("error"))
        #expect(body["error"]?["type"] == .string(type))
    }

    @Test func everyKindIsInTheTable() {
        // A kind added to the table without a row above would fail here first.
        #expect(CallError.Kind.allCases.count == 21)
    }

    @Test func aRefusedStoredKeyIsA424ThatNoSDKRetriesOrBlamesOnItsToken() {
        let rendered = AnthropicErrorRenderer.render(CallError(.providerKeyRejected, "key shared-ant (sk-a…) rejected"))
        #expect(rendered.status.code == 424)
        #expect(rendered.code == "provider_key_rejected")
        #expect(rendered.type != "authentication_error")
    }

    @Test func retryAfterIsKept() {
        let rendered = AnthropicErrorRenderer.render(CallError(.upstreamRateLimited, "slow down", upstreamStatus: 429, retryAfter: "7"))
        #expect(rendered.status == .tooManyRequests)
        #expect(rendered.headers[.retryAfter] == "7")
        #expect(AnthropicErrorShape.response(for: rendered).headers[.retryAfter] == "7")
    }

    @Test func anUpstreamsOwnAnthropicTypeAndOverloadAreKept() {
        let rejected = CallError(.upstreamRejected, "too big", upstreamStatus: 413, upstreamCode: "request_too_large")
        #expect(AnthropicErrorRenderer.errorType(for: rejected) == "request_too_large")
        let foreign = CallError(.upstreamRejected, "bad", upstreamStatus: 400, upstreamCode: "invalid_value")
        #expect(AnthropicErrorRenderer.errorType(for: foreign) == "invalid_request_error")
        #expect(AnthropicErrorRenderer.errorType(for: CallError(.upstreamFailed, "busy", upstreamStatus: 529)) == "overloaded_error")
        #expect(AnthropicErrorRenderer.errorType(for: CallError(.upstreamFailed, "boom", upstreamStatus: 500)) == "api_error")
    }
}
