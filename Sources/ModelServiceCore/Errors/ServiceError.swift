import Logging

/// Every error the service answers with, in domain terms: the registry, the vault, accounts, traffic,
/// the call pipeline and the front doors all throw it, and none of them knows HTTP.
///
/// ``Kind/rule`` is the one table that says, for each kind, the status, the code, the log level,
/// whether another attempt could succeed, and the error `type` each wire format shows (OpenAI's and
/// Anthropic's). The HTTP layer renders it from there; nothing else maps errors to statuses.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        // MARK: Any request

        /// A field of an `/api` body or query is missing or out of its bounds.
        case invalidField
        /// A request the service cannot read for another reason.
        case badRequest
        /// The body is not JSON.
        case invalidJSON
        /// The body nests deeper than the service reads.
        case jsonTooDeep
        /// No valid credential: the same answer for a missing, unknown, expired or revoked one.
        case unauthorized
        /// The caller may not do this (a user token acting for another user, a page for admins).
        case forbidden
        /// A console form that did not come from the console (no or a wrong CSRF token).
        case crossSiteRequest
        case notFound
        case methodNotAllowed
        case conflict
        /// A body over its route's size limit.
        case payloadTooLarge
        /// A console form over its size limit.
        case formTooLarge
        /// Bodies in flight use up the service's budget for them: retry in a moment.
        case serverBusy
        case databaseUnavailable
        /// The key vault has not been unlocked yet (start-up).
        case vaultLocked
        /// The provider refused a key being stored.
        case keyRejected
        /// The provider could not be reached to check a key being stored.
        case providerUnreachable
        /// A stored key the loaded master keys cannot open, asked for by the decrypt endpoint.
        case storedKeyUndecryptable
        /// A fault of the service itself; the message names the request id only.
        case internalError

        // MARK: Gateway calls

        /// The client's call is malformed or names a bad field.
        case invalidRequest
        /// No active registry model has that name.
        case unknownModel
        /// The model is outside the calling token's `models` list.
        case modelNotAllowed
        /// The model exists but serves another endpoint (chat vs embedding).
        case wrongEndpoint
        /// The provider of the model lacks the capability the door needs (e.g. `/v1/responses` on Gemini).
        case unsupportedProvider
        /// The gateway's own limits refused the call.
        case rateLimited
        /// No key is configured for the provider.
        case noKey
        /// Stored keys exist but none decrypts with the current master secret: the server's fault.
        case keyUndecryptable
        /// The model's base URL is not the endpoint any available key is stored for: nothing is sent.
        case keyNotForEndpoint
        /// The model names an environment variable that is not a provider key variable.
        case refusedKeyVariable
        /// The provider refused the stored key: a 424, so the client's SDK neither blames its own token nor retries.
        case providerKeyRejected
        /// The provider does not know the registry's `modelId`: a registry mistake, not the client's.
        case upstreamModelNotFound
        /// The provider refused the request (4xx other than key, model and rate refusals).
        case upstreamRejected
        /// The provider is rate limiting the gateway's key.
        case upstreamRateLimited
        /// The provider failed (5xx).
        case upstreamFailed
        /// The provider did not answer in time.
        case upstreamTimeout
        /// The provider could not be reached.
        case upstreamUnreachable
        /// The provider answered something unreadable.
        case upstreamInvalidResponse
        /// A budget of the caller has no room left this period (traffic control).
        case budgetExceeded
        /// The call is under a cost budget and a model it may reach has no prices (and does not allow that).
        case modelUnpriced
        /// Every candidate's circuit is open (traffic control).
        case providerUnavailable
        /// `LIMITS_WHEN_DB_DOWN=closed` and the shared counters cannot be reached (traffic control).
        case limitsUnavailable

        public struct Rule: Sendable {
            public let status: Int
            public let code: String
            public let logLevel: Logger.Level
            /// Whether another attempt (retry or fallback) could succeed.
            public let retryable: Bool
            /// `error.type` in OpenAI's shape (`/api`, and the OpenAI-format doors).
            public let openAIType: String
            /// `error.type` in Anthropic's shape (`/v1/messages`).
            public let anthropicType: String
        }

        // swift-format-ignore
        public var rule: Rule {
            switch self {
            case .invalidField: Rule(status: 400, code: "invalid_field", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .badRequest: Rule(status: 400, code: "bad_request", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .invalidJSON: Rule(status: 400, code: "invalid_json", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .jsonTooDeep: Rule(status: 400, code: "json_too_deep", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .unauthorized: Rule(status: 401, code: "unauthorized", logLevel: .debug, retryable: false, openAIType: "authentication_error", anthropicType: "authentication_error")
            case .forbidden: Rule(status: 403, code: "forbidden", logLevel: .debug, retryable: false, openAIType: "permission_error", anthropicType: "permission_error")
            case .crossSiteRequest: Rule(status: 403, code: "cross_site_request", logLevel: .info, retryable: false, openAIType: "permission_error", anthropicType: "permission_error")
            case .notFound: Rule(status: 404, code: "not_found", logLevel: .debug, retryable: false, openAIType: "not_found_error", anthropicType: "not_found_error")
            case .methodNotAllowed: Rule(status: 405, code: "method_not_allowed", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .conflict: Rule(status: 409, code: "conflict", logLevel: .debug, retryable: false, openAIType: "conflict_error", anthropicType: "invalid_request_error")
            case .payloadTooLarge: Rule(status: 413, code: "payload_too_large", logLevel: .info, retryable: false, openAIType: "invalid_request_error", anthropicType: "request_too_large")
            case .formTooLarge: Rule(status: 413, code: "form_too_large", logLevel: .info, retryable: false, openAIType: "invalid_request_error", anthropicType: "request_too_large")
            case .serverBusy: Rule(status: 503, code: "server_busy", logLevel: .warning, retryable: true, openAIType: "api_error", anthropicType: "overloaded_error")
            case .databaseUnavailable: Rule(status: 503, code: "database_unavailable", logLevel: .error, retryable: true, openAIType: "api_error", anthropicType: "api_error")
            case .vaultLocked: Rule(status: 503, code: "vault_locked", logLevel: .warning, retryable: true, openAIType: "api_error", anthropicType: "api_error")
            case .keyRejected: Rule(status: 422, code: "key_rejected", logLevel: .info, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .providerUnreachable: Rule(status: 502, code: "provider_unreachable", logLevel: .warning, retryable: true, openAIType: "api_error", anthropicType: "api_error")
            case .storedKeyUndecryptable: Rule(status: 409, code: "key_undecryptable", logLevel: .error, retryable: false, openAIType: "conflict_error", anthropicType: "invalid_request_error")
            case .internalError: Rule(status: 500, code: "internal_error", logLevel: .error, retryable: false, openAIType: "api_error", anthropicType: "api_error")
            case .invalidRequest: Rule(status: 400, code: "invalid_request", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .unknownModel: Rule(status: 404, code: "model_not_found", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "not_found_error")
            case .modelNotAllowed: Rule(status: 403, code: "model_not_allowed", logLevel: .debug, retryable: false, openAIType: "permission_error", anthropicType: "permission_error")
            case .wrongEndpoint: Rule(status: 400, code: "wrong_endpoint", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .unsupportedProvider: Rule(status: 400, code: "unsupported_provider", logLevel: .debug, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .rateLimited: Rule(status: 429, code: "rate_limit_exceeded", logLevel: .info, retryable: false, openAIType: "rate_limit_error", anthropicType: "rate_limit_error")
            case .noKey: Rule(status: 400, code: "missing_provider_key", logLevel: .info, retryable: true, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .keyUndecryptable: Rule(status: 503, code: "provider_key_undecryptable", logLevel: .error, retryable: true, openAIType: "upstream_error", anthropicType: "api_error")
            case .keyNotForEndpoint: Rule(status: 400, code: "provider_key_not_for_endpoint", logLevel: .warning, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .refusedKeyVariable: Rule(status: 400, code: "invalid_api_key_env_var", logLevel: .warning, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .providerKeyRejected: Rule(status: 424, code: "provider_key_rejected", logLevel: .warning, retryable: true, openAIType: "upstream_configuration_error", anthropicType: "api_error")
            case .upstreamModelNotFound: Rule(status: 424, code: "upstream_model_not_found", logLevel: .warning, retryable: true, openAIType: "upstream_configuration_error", anthropicType: "api_error")
            case .upstreamRejected: Rule(status: 400, code: "upstream_rejected", logLevel: .info, retryable: false, openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            case .upstreamRateLimited: Rule(status: 429, code: "rate_limit_exceeded", logLevel: .info, retryable: true, openAIType: "rate_limit_error", anthropicType: "rate_limit_error")
            case .upstreamFailed: Rule(status: 502, code: "upstream_error", logLevel: .warning, retryable: true, openAIType: "upstream_error", anthropicType: "api_error")
            case .upstreamTimeout: Rule(status: 504, code: "upstream_timeout", logLevel: .warning, retryable: true, openAIType: "timeout", anthropicType: "api_error")
            case .upstreamUnreachable: Rule(status: 502, code: "upstream_unreachable", logLevel: .warning, retryable: true, openAIType: "upstream_error", anthropicType: "api_error")
            case .upstreamInvalidResponse: Rule(status: 502, code: "upstream_invalid_response", logLevel: .warning, retryable: true, openAIType: "upstream_error", anthropicType: "api_error")
            case .budgetExceeded: Rule(status: 429, code: "budget_exceeded", logLevel: .info, retryable: false, openAIType: "insufficient_quota", anthropicType: "rate_limit_error")
            case .modelUnpriced: Rule(status: 403, code: "model_unpriced", logLevel: .info, retryable: false, openAIType: "permission_error", anthropicType: "permission_error")
            case .providerUnavailable: Rule(status: 503, code: "provider_unavailable", logLevel: .warning, retryable: false, openAIType: "api_error", anthropicType: "overloaded_error")
            case .limitsUnavailable: Rule(status: 503, code: "limits_unavailable", logLevel: .error, retryable: false, openAIType: "api_error", anthropicType: "overloaded_error")
            }
        }
    }

    /// The error types Anthropic's API and SDKs know; an upstream's own Anthropic type passes through when it is one.
    public static let anthropicTypes: Set<String> = [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "request_too_large", "rate_limit_error",
        "api_error", "overloaded_error",
    ]

    public var kind: Kind
    /// Safe to show the client: no key value, already scrubbed.
    public var message: String
    /// The status an upstream refusal came with, kept when the door passes it through.
    public var upstreamStatus: Int?
    /// The upstream's own error code, when it gave one.
    public var upstreamCode: String?
    /// Seconds, for `Retry-After`.
    public var retryAfter: String?
    /// The bad field, for `invalidField` and `invalidRequest`.
    public var field: String?
    /// The authentication scheme a 401 asks for (`WWW-Authenticate`), when it is a bearer token.
    public var challenge: String?

    public init(
        _ kind: Kind, _ message: String, upstreamStatus: Int? = nil, upstreamCode: String? = nil, retryAfter: String? = nil, field: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.upstreamStatus = upstreamStatus
        self.upstreamCode = upstreamCode
        self.retryAfter = retryAfter
        self.field = field
    }

    /// The status a door answers with: the rule's, except an upstream 4xx refusal keeps its own status.
    public var status: Int {
        if kind == .upstreamRejected, let upstreamStatus, (400..<500).contains(upstreamStatus), ![401, 403, 408, 409, 429].contains(upstreamStatus) {
            return upstreamStatus
        }
        return kind.rule.status
    }

    /// The code a door answers with: the rule's, except an upstream refusal keeps the upstream's own code.
    public var code: String { kind == .upstreamRejected ? (upstreamCode ?? kind.rule.code) : kind.rule.code }

    /// `error.type` in OpenAI's shape.
    public var openAIType: String { kind.rule.openAIType }

    /// `error.type` in Anthropic's shape: the rule's, except that an upstream's own Anthropic type passes
    /// through a refusal, and an overloaded upstream (529, 503) is `overloaded_error`.
    public var anthropicType: String {
        switch kind {
        case .upstreamRejected:
            return upstreamCode.flatMap { Self.anthropicTypes.contains($0) ? $0 : nil } ?? kind.rule.anthropicType
        case .upstreamFailed where upstreamStatus == 529 || upstreamStatus == 503 || upstreamCode == "overloaded_error":
            return "overloaded_error"
        default:
            return kind.rule.anthropicType
        }
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    // MARK: The common cases

    /// The same answer for a missing, unknown, expired or revoked token: it says nothing of which.
    public static func unauthorized() -> ServiceError {
        var error = ServiceError(.unauthorized, "A valid access token is required (Authorization: Bearer <token>).")
        error.challenge = "Bearer"
        return error
    }

    public static func forbidden(_ message: String = "This access token may not do that.") -> ServiceError {
        ServiceError(.forbidden, message)
    }

    /// An `/api` field at fault, named (400 `invalid_field`).
    public static func invalidField(_ field: String, _ problem: String) -> ServiceError {
        ServiceError(.invalidField, "\(field): \(problem)", field: field)
    }

    /// A gateway call's field at fault, named (400 `invalid_request`).
    public static func invalidRequest(_ field: String, _ problem: String) -> ServiceError {
        ServiceError(.invalidRequest, "\(field): \(problem)", field: field)
    }

    public static func badRequest(_ message: String) -> ServiceError {
        ServiceError(.badRequest, message)
    }

    public static func notFound(_ what: String) -> ServiceError {
        ServiceError(.notFound, "\(what) not found")
    }

    public static func conflict(_ message: String) -> ServiceError {
        ServiceError(.conflict, message)
    }

    /// A refusal of traffic control (a budget, a limit, every circuit open), with `Retry-After` of at least a second.
    public static func refusal(_ kind: Kind, _ message: String, retryAfterSeconds: Int) -> ServiceError {
        ServiceError(kind, message, retryAfter: "\(max(1, retryAfterSeconds))")
    }

    /// A body over the route's size limit (`MAX_API_BODY_BYTES` or `MAX_REQUEST_BYTES`).
    public static func bodyTooLarge(limit: Int) -> ServiceError {
        ServiceError(.payloadTooLarge, "The request body is larger than \(limit) bytes.")
    }
}
