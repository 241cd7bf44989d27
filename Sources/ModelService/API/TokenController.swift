import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/tokens`: admins create, list and revoke access tokens.
struct TokenController {
    let tokens: AccessTokenStore

    struct CreateRequest: Decodable {
        var role: AccessRole
        var userId: String?
        var name: String?
        var expiresAt: String?
        /// Registry names and `provider/*` patterns the token may call; left out: every model.
        var models: [String]?
        var rateLimitPerMinute: Int?
        var tokenLimitPerMinute: Int?

        /// The token's limits, each checked and bounded.
        func limits() throws(ServiceError) -> AccessTokenStore.Limits {
            try TokenController.limits(models: models, rateLimitPerMinute: rateLimitPerMinute, tokenLimitPerMinute: tokenLimitPerMinute)
        }
    }

    /// The one response that carries a token's secret.
    struct Created: Encodable {
        var token: String
        var accessToken: AccessToken
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.delete("{id}", use: revoke)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Created> {
        let principal = try context.requireAdmin()
        let body = try await request.decodeJSON(as: CreateRequest.self, context: context)
        let userId = try Self.validateUserId(body.userId, role: body.role)
        var expiry: Date?
        if let text = body.expiresAt {
            guard let date = Clock.parseISO8601(text) else { throw ServiceError.invalidField("expiresAt", "must be an ISO 8601 timestamp") }
            guard date > Date() else { throw ServiceError.invalidField("expiresAt", "must be in the future") }
            expiry = date
        }
        try Self.validateName(body.name)
        let (record, secret) = try await tokens.create(
            role: body.role, userId: userId, name: body.name, expiresAt: expiry, limits: try body.limits(), actor: .init(principal))
        return JSONResponse(Created(token: secret.reveal, accessToken: record), status: .created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[AccessToken]> {
        _ = try context.requireAdmin()
        return JSONResponse(try await tokens.list())
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireAdmin()
        guard let id = context.parameters.get("id"), try await tokens.revoke(id: id, actor: .init(principal)) else { throw ServiceError.notFound("token") }
        return Response(status: .noContent)
    }

    /// A token's model list and own limits per minute, as the API and the console take them.
    static func limits(models: [String]?, rateLimitPerMinute: Int?, tokenLimitPerMinute: Int?) throws(ServiceError) -> AccessTokenStore.Limits {
        for (field, value, maximum) in [
            ("rateLimitPerMinute", rateLimitPerMinute, TokenRestrictions.maxRequestsPerMinute), ("tokenLimitPerMinute", tokenLimitPerMinute, TokenRestrictions.maxTokensPerMinute),
        ] {
            if let value, !(1...maximum).contains(value) { throw .invalidField(field, "must be an integer from 1 to \(maximum)") }
        }
        return AccessTokenStore.Limits(
            models: try models.map { entries throws(ServiceError) in try ModelScope.checked(entries) }, rateLimitPerMinute: rateLimitPerMinute,
            tokenLimitPerMinute: tokenLimitPerMinute)
    }

    static func validateName(_ name: String?) throws(ServiceError) {
        if let name, name.isEmpty { throw .invalidField("name", "must be 1 to 200 characters") }
        try TextInput.check(name, field: "name")
    }

    /// A user token needs the user it is bound to; admin and service tokens take none.
    static func validateUserId(_ userId: String?, role: AccessRole) throws(ServiceError) -> String? {
        switch role {
        case .user:
            guard let userId, !userId.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw .invalidField("userId", "is required for a user token")
            }
            return try UserId.checked(userId, field: "userId")
        case .admin, .service:
            guard userId == nil else { throw .invalidField("userId", "only user tokens are bound to a user") }
            return nil
        }
    }
}
