import HTTPTypes

/// The `/v1/messages` door renders a ``CallError`` (the one error table) with Anthropic's error
/// types; the status and `Retry-After` stay the table's, the body is written by ``AnthropicErrorShape``.
enum AnthropicErrorRenderer {
    static func render(_ error: CallError) -> APIError {
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = retryAfter }
        return APIError(
            HTTPResponse.Status(code: error.status), code: error.code, message: error.message, type: errorType(for: error), headers: headers)
    }

    /// Anthropic's `error.type` for each kind. A refused stored key or a wrong upstream model id is the
    /// operator's problem, not the client's: `api_error`, never `authentication_error` or `not_found_error`.
    static func errorType(for error: CallError) -> String {
        switch error.kind {
        case .invalidRequest, .wrongEndpoint, .unsupportedProvider, .noKey, .keyNotForEndpoint, .refusedKeyVariable:
            "invalid_request_error"
        case .upstreamRejected:
            error.upstreamCode.flatMap { AnthropicErrorShape.types.contains($0) ? $0 : nil } ?? "invalid_request_error"
        case .unknownModel: "not_found_error"
        case .forbidden: "permission_error"
        case .rateLimited, .upstreamRateLimited, .budgetExceeded: "rate_limit_error"
        case .providerUnavailable, .limitsUnavailable: "overloaded_error"
        case .upstreamFailed:
            error.upstreamStatus == 529 || error.upstreamStatus == 503 || error.upstreamCode == "overloaded_error" ? "overloaded_error" : "api_error"
        case .keyUndecryptable, .providerKeyRejected, .upstreamModelNotFound, .upstreamTimeout, .upstreamUnreachable, .upstreamInvalidResponse:
            "api_error"
        }
    }
}
