import HTTPTypes

/// How gateway failures become answers, in OpenAI's error shape.
///
/// Upstream 4xx keep their status and message (a 429 keeps `Retry-After`), upstream 5xx and
/// unreachable upstreams are 502, timeouts 504. Messages were scrubbed of the key by the adapter.
enum GatewayError {
    static func from(_ error: ProviderError) -> APIError {
        var headers: HTTPFields = [:]
        var code = "upstream_error"
        switch error {
        case .upstreamRejected(let status, _, _, let upstreamCode, let retryAfter):
            if let retryAfter { headers[.retryAfter] = retryAfter }
            code = upstreamCode ?? (status == 429 ? "rate_limit_exceeded" : "upstream_rejected")
            if status == 401 || status == 403 { code = "provider_key_rejected" }
        case .timeout: code = "upstream_timeout"
        case .unreachable: code = "upstream_unreachable"
        case .invalidResponse: code = "upstream_invalid_response"
        case .upstreamFailed: code = "upstream_error"
        case .invalidRequest: code = "invalid_request"
        }
        let status = HTTPResponse.Status(code: error.httpStatus)
        let message: String
        switch error {
        case .upstreamRejected(let status, _, _, _, _) where status == 401 || status == 403:
            // The provider refused the key the gateway sent, not the caller's token.
            message = "The provider rejected the API key used for this call: \(error.message)"
        default:
            message = error.message
        }
        return APIError(status, code: code, message: message, type: error.openAIType, headers: headers)
    }

    static func modelNotFound(_ name: String) -> APIError {
        APIError(.notFound, code: "model_not_found", message: "The model '\(name)' does not exist or is not active.", type: "invalid_request_error")
    }

    static func noKey(_ error: KeyResolutionError) -> APIError {
        if error.unboundEndpoint != nil {
            return APIError(.badRequest, code: "provider_key_not_for_endpoint", message: error.description, type: "invalid_request_error")
        }
        if error.refusedVariable != nil {
            return APIError(.badRequest, code: "invalid_api_key_env_var", message: error.description, type: "invalid_request_error")
        }
        return APIError(error.undecryptable ? .serviceUnavailable : .badRequest, code: error.undecryptable ? "provider_key_undecryptable" : "missing_provider_key",
                 message: error.description, type: "invalid_request_error")
    }
}
