import Foundation
import Logging

/// Why a gateway call failed, in domain terms: each front door renders it in its own wire shape.
///
/// The pipeline and the adapters never throw an HTTP type; ``Kind/rule`` is the one table that
/// says which status, code, log level and retry advice each kind gets.
public struct CallError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The client's request is malformed or names a bad field.
        case invalidRequest
        /// No active registry model has that name.
        case unknownModel
        /// The model exists but serves another endpoint (chat vs embedding).
        case wrongEndpoint
        /// The door does not support the model's provider (e.g. `/v1/responses` on Gemini).
        case unsupportedProvider
        /// The caller may not do this (a user token calling for another user).
        case forbidden
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
        }

        public var rule: Rule {
            switch self {
            case .invalidRequest: Rule(status: 400, code: "invalid_request", logLevel: .debug, retryable: false)
            case .unknownModel: Rule(status: 404, code: "model_not_found", logLevel: .debug, retryable: false)
            case .wrongEndpoint: Rule(status: 400, code: "wrong_endpoint", logLevel: .debug, retryable: false)
            case .unsupportedProvider: Rule(status: 400, code: "unsupported_provider", logLevel: .debug, retryable: false)
            case .forbidden: Rule(status: 403, code: "forbidden", logLevel: .debug, retryable: false)
            case .rateLimited: Rule(status: 429, code: "rate_limit_exceeded", logLevel: .info, retryable: false)
            case .noKey: Rule(status: 400, code: "missing_provider_key", logLevel: .info, retryable: true)
            case .keyUndecryptable: Rule(status: 503, code: "provider_key_undecryptable", logLevel: .error, retryable: true)
            case .keyNotForEndpoint: Rule(status: 400, code: "provider_key_not_for_endpoint", logLevel: .warning, retryable: false)
            case .refusedKeyVariable: Rule(status: 400, code: "invalid_api_key_env_var", logLevel: .warning, retryable: false)
            case .providerKeyRejected: Rule(status: 424, code: "provider_key_rejected", logLevel: .warning, retryable: true)
            case .upstreamModelNotFound: Rule(status: 424, code: "upstream_model_not_found", logLevel: .warning, retryable: true)
            case .upstreamRejected: Rule(status: 400, code: "upstream_rejected", logLevel: .info, retryable: false)
            case .upstreamRateLimited: Rule(status: 429, code: "rate_limit_exceeded", logLevel: .info, retryable: true)
            case .upstreamFailed: Rule(status: 502, code: "upstream_error", logLevel: .warning, retryable: true)
            case .upstreamTimeout: Rule(status: 504, code: "upstream_timeout", logLevel: .warning, retryable: true)
            case .upstreamUnreachable: Rule(status: 502, code: "upstream_unreachable", logLevel: .warning, retryable: true)
            case .upstreamInvalidResponse: Rule(status: 502, code: "upstream_invalid_response", logLevel: .warning, retryable: true)
            case .budgetExceeded: Rule(status: 429, code: "budget_exceeded", logLevel: .info, retryable: false)
            case .providerUnavailable: Rule(status: 503, code: "provider_unavailable", logLevel: .warning, retryable: false)
            case .limitsUnavailable: Rule(status: 503, code: "limits_unavailable", logLevel: .error, retryable: false)
            }
        }
    }

    public var kind: Kind
    /// Safe to show the client: no key value, already scrubbed.
    public var message: String
    /// The status an upstream refusal came with, kept when the door passes it through.
    public var upstreamStatus: Int?
    /// The upstream's own error code, when it gave one.
    public var upstreamCode: String?
    /// Seconds, for `Retry-After`.
    public var retryAfter: String?
    /// The bad field, for `invalidRequest`.
    public var field: String?

    public init(_ kind: Kind, _ message: String, upstreamStatus: Int? = nil, upstreamCode: String? = nil, retryAfter: String? = nil, field: String? = nil) {
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

    /// The code a door answers with.
    public var code: String { kind == .upstreamRejected ? (upstreamCode ?? kind.rule.code) : kind.rule.code }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// A 400 naming the field at fault.
    public static func invalidField(_ field: String, _ problem: String) -> CallError {
        CallError(.invalidRequest, "\(field): \(problem)", field: field)
    }
}

extension CallError {
    /// The domain reading of an adapter's failure; `key` names the key when the provider refused it.
    init(_ error: ProviderError, model: Model, key: ResolvedKey?) {
        switch error {
        case .upstreamRejected(let status, let message, _, let code, let retryAfter):
            switch status {
            case _ where error.rejectsKey:
                let name = key?.label ?? "(none)"
                self.init(
                    .providerKeyRejected,
                    "The \(model.provider.rawValue) provider rejected the API key \(name) used for model '\(model.name)': \(message)",
                    upstreamStatus: status, upstreamCode: code)
            case 404:
                self.init(
                    .upstreamModelNotFound,
                    "The \(model.provider.rawValue) provider does not know the upstream model '\(model.modelId)' that registry model '\(model.name)' points to: \(message)",
                    upstreamStatus: status, upstreamCode: code)
            case 429:
                // Passed on to the client as whole seconds (at most a day), whatever form the upstream sent.
                let wait = RetryPolicy.retryAfter(retryAfter, now: Date(), cap: .seconds(86_400)).map { (Saturating.milliseconds($0) + 999) / 1000 }
                self.init(.upstreamRateLimited, message, upstreamStatus: status, upstreamCode: code, retryAfter: wait.map(String.init))
            default:
                self.init(.upstreamRejected, message, upstreamStatus: status, upstreamCode: code)
            }
        case .upstreamFailed(let status, let message): self.init(.upstreamFailed, message, upstreamStatus: status)
        case .timeout: self.init(.upstreamTimeout, error.message)
        case .unreachable: self.init(.upstreamUnreachable, error.message)
        case .invalidResponse: self.init(.upstreamInvalidResponse, error.message)
        case .invalidRequest(let reason): self.init(.invalidRequest, reason)
        }
    }
}
