import Foundation
import HTTPTypes
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The one error table (``ServiceError``) in Anthropic's shape, as the `/v1/messages` routes render it.
@Suite struct AnthropicErrorShapeTests {
    static let types: [(ServiceError.Kind, String)] = [
        (.invalidField, "invalid_request_error"), (.badRequest, "invalid_request_error"), (.invalidJSON, "invalid_request_error"),
        (.jsonTooDeep, "invalid_request_error"), (.unauthorized, "authentication_error"), (.forbidden, "permission_error"),
        (.crossSiteRequest, "permission_error"), (.notFound, "not_found_error"), (.methodNotAllowed, "invalid_request_error"),
        (.conflict, "invalid_request_error"), (.payloadTooLarge, "request_too_large"), (.formTooLarge, "request_too_large"),
        (.serverBusy, "overloaded_error"), (.databaseUnavailable, "api_error"), (.vaultLocked, "api_error"), (.keyRejected, "invalid_request_error"),
        (.providerUnreachable, "api_error"), (.storedKeyUndecryptable, "invalid_request_error"), (.internalError, "api_error"),
        (.invalidRequest, "invalid_request_error"), (.unknownModel, "not_found_error"), (.modelNotAllowed, "permission_error"), (.wrongEndpoint, "invalid_request_error"),
        (.unsupportedProvider, "invalid_request_error"), (.rateLimited, "rate_limit_error"),
        (.noKey, "invalid_request_error"), (.keyUndecryptable, "api_error"), (.keyNotForEndpoint, "invalid_request_error"),
        (.refusedKeyVariable, "invalid_request_error"), (.providerKeyRejected, "api_error"), (.upstreamModelNotFound, "api_error"),
        (.upstreamRejected, "invalid_request_error"), (.upstreamRateLimited, "rate_limit_error"), (.upstreamFailed, "api_error"),
        (.upstreamTimeout, "api_error"), (.upstreamUnreachable, "api_error"), (.upstreamInvalidResponse, "api_error"),
        (.budgetExceeded, "rate_limit_error"), (.modelUnpriced, "permission_error"), (.providerUnavailable, "overloaded_error"), (.limitsUnavailable, "overloaded_error"),
    ]

    @Test(arguments: types)
    func everyKindHasAnAnthropicTypeAndTheTablesStatus(kind: ServiceError.Kind, type: String) throws {
        let error = ServiceError(kind, "m")
        let rendered = ErrorResponse(error, shape: .anthropic)
        #expect(error.anthropicType == type)
        #expect(Int(rendered.status.code) == kind.rule.status)
        #expect(rendered.headers[.init("x-model-service-error-code")!] == kind.rule.code)
        #expect(ServiceError.anthropicTypes.contains(type))
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(WireError.json(error, shape: .anthropic).readableBytesView))
        #expect(body["type"] == .string("error"))
        #expect(body["error"]?["type"] == .string(type))
    }

    @Test func everyKindIsInTheTable() {
        // A kind added to the table without a row above would fail here first.
        #expect(ServiceError.Kind.allCases.count == Self.types.count)
        #expect(Set(Self.types.map(\.0)) == Set(ServiceError.Kind.allCases))
    }

    @Test func aRefusedStoredKeyIsA424ThatNoSDKRetriesOrBlamesOnItsToken() {
        let error = ServiceError(.providerKeyRejected, "key shared-ant (sk-a…) rejected")
        #expect(error.status == 424)
        #expect(error.code == "provider_key_rejected")
        #expect(error.anthropicType != "authentication_error")
    }

    @Test func retryAfterIsKept() {
        let rendered = ErrorResponse(ServiceError(.upstreamRateLimited, "slow down", upstreamStatus: 429, retryAfter: "7"), shape: .anthropic)
        #expect(rendered.status == .tooManyRequests)
        #expect(rendered.headers[.retryAfter] == "7")
    }

    @Test func anUpstreamsOwnAnthropicTypeAndOverloadAreKept() {
        let rejected = ServiceError(.upstreamRejected, "too big", upstreamStatus: 413, upstreamCode: "request_too_large")
        #expect(rejected.anthropicType == "request_too_large")
        let foreign = ServiceError(.upstreamRejected, "bad", upstreamStatus: 400, upstreamCode: "invalid_value")
        #expect(foreign.anthropicType == "invalid_request_error")
        #expect(ServiceError(.upstreamFailed, "busy", upstreamStatus: 529).anthropicType == "overloaded_error")
        #expect(ServiceError(.upstreamFailed, "boom", upstreamStatus: 500).anthropicType == "api_error")
    }
}
