import HTTPTypes

/// The OpenAI-format doors (`/v1/chat/completions`, `/v1/embeddings`, `/v1/responses`) render a
/// ``CallError`` as OpenAI's `{"error": {"code", "message", "type"}}`.
enum OpenAIErrorRenderer {
    static func render(_ error: CallError) -> APIError {
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = retryAfter }
        let status = HTTPResponse.Status(code: error.status)
        return APIError(status, code: error.code, message: error.message, type: errorType(for: error.kind), headers: headers)
    }

    /// OpenAI's `error.type` for each kind.
    static func errorType(for kind: CallError.Kind) -> String {
        switch kind {
        case .invalidRequest, .unknownModel, .wrongEndpoint, .unsupportedProvider, .noKey, .keyNotForEndpoint, .refusedKeyVariable, .upstreamRejected:
            "invalid_request_error"
        case .forbidden: "permission_error"
        case .rateLimited, .upstreamRateLimited: "rate_limit_error"
        case .providerKeyRejected, .upstreamModelNotFound: "upstream_configuration_error"
        case .keyUndecryptable, .upstreamFailed, .upstreamUnreachable, .upstreamInvalidResponse: "upstream_error"
        case .upstreamTimeout: "timeout"
        }
    }
}
