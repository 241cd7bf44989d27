import HTTPTypes
import Hummingbird

/// Why traffic control refused or could not place a call. Mapped to an answer in one place (``apiError``).
public struct TrafficError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// A budget has no room left this period (429 `budget_exceeded`).
        case budgetExceeded
        /// A request or token limit is reached (429 `rate_limit_exceeded`).
        case rateLimited
        /// Every candidate's circuit is open (503 `provider_unavailable`).
        case providerUnavailable
        /// `LIMITS_WHEN_DB_DOWN=closed` and the shared counters cannot be reached (503 `limits_unavailable`).
        case limitsUnavailable
    }

    public var kind: Kind
    public var message: String
    public var retryAfterSeconds: Int

    public var description: String { message }

    /// The one mapping of traffic refusals to status, code and `Retry-After`.
    public var apiError: APIError {
        let headers: HTTPFields = [.retryAfter: "\(max(1, retryAfterSeconds))"]
        switch kind {
        case .budgetExceeded:
            return APIError(.tooManyRequests, code: "budget_exceeded", message: message, type: "insufficient_quota", headers: headers)
        case .rateLimited:
            return APIError(.tooManyRequests, code: "rate_limit_exceeded", message: message, type: "rate_limit_exceeded", headers: headers)
        case .providerUnavailable:
            return APIError(.serviceUnavailable, code: "provider_unavailable", message: message, type: "api_error", headers: headers)
        case .limitsUnavailable:
            return APIError(.serviceUnavailable, code: "limits_unavailable", message: message, type: "api_error", headers: headers)
        }
    }
}

extension TrafficError: HTTPResponseError {
    public var status: HTTPResponse.Status { apiError.status }
    public var headers: HTTPFields { apiError.headers }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try apiError.response(from: request, context: context)
    }
}
