import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/tokens`: admins create, list and revoke access tokens; a team admin does so for its own team's
/// members (user tokens of that team only).
struct TokenController {
    let tokens: AccessTokenStore
    let teams: TeamStore

    struct CreateRequest: Decodable {
        var role: AccessRole
        var userId: String?
        var name: String?
        var expiresAt: String?
        /// Registry names and `provider/*` patterns the token may call; left out: every model.
        var models: [String]?
        var rateLimitPerMinute: Int?
        var tokenLimitPerMinute: Int?
        /// The team the token calls for.
        var teamId: String?
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
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(as: CreateRequest.self, context: context)
        let userId = try Self.validateUserId(body.userId, role: body.role)
        try Self.checkTeam(body.teamId, role: body.role, userId: userId, access: TeamAccess(principal: principal, teams: teams))
        var expiry: Date?
        if let text = body.expiresAt {
            guard let date = Clock.parseISO8601(text) else { throw ServiceError.invalidField("expiresAt", "must be an ISO 8601 timestamp") }
            guard date > Date() else { throw ServiceError.invalidField("expiresAt", "must be in the future") }
            expiry = date
        }
        try Self.validateName(body.name)
        var limits = try Self.limits(models: body.models, rateLimitPerMinute: body.rateLimitPerMinute, tokenLimitPerMinute: body.tokenLimitPerMinute)
        limits.teamId = body.teamId
        let (record, secret) = try await tokens.create(
            role: body.role, userId: userId, name: body.name, expiresAt: expiry, limits: limits, actor: .init(principal, requestId: context.requestId))
        return JSONResponse(Created(token: secret.reveal, accessToken: record), status: .created)
    }

    /// Every token for an admin; a team admin's teams' tokens.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[AccessToken]> {
        let principal = try context.requirePrincipal()
        if principal.isAdmin { return JSONResponse(try await tokens.list()) }
        let administered = TeamAccess(principal: principal, teams: teams).administered
        guard !administered.isEmpty else { throw ServiceError.forbidden() }
        return JSONResponse(try await tokens.list(teamIds: administered.sorted()))
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("id") else { throw ServiceError.notFound("token") }
        if !principal.isAdmin {
            let administered = TeamAccess(principal: principal, teams: teams).administered
            guard !administered.isEmpty else { throw ServiceError.forbidden() }
            guard try await tokens.list(teamIds: administered.sorted()).contains(where: { $0.id == id }) else {
                throw ServiceError.notFound("token")
            }
        }
        guard try await tokens.revoke(id: id, actor: .init(principal, requestId: context.requestId)) else { throw ServiceError.notFound("token") }
        return Response(status: .noContent)
    }

    /// A token's team must exist and be one the caller manages; a user token's user must be in it. A team admin
    /// (not an admin) makes user tokens of its own teams only.
    static func checkTeam(_ teamId: String?, role: AccessRole, userId: String?, access: TeamAccess) throws(ServiceError) {
        guard let teamId else {
            if !access.principal.isAdmin { throw access.administered.isEmpty ? .forbidden() : .invalidField("teamId", "is required: a team admin makes tokens of its own team") }
            return
        }
        try TextInput.check(teamId, field: "teamId", maxCharacters: 100)
        _ = try access.administrable(teamId)
        if !access.principal.isAdmin, role != .user { throw .forbidden("A team admin makes user tokens only.") }
        if role == .admin { throw .invalidField("teamId", "an admin token belongs to no team") }
        if let userId, access.teams.role(userId: userId, teamId: teamId) == nil {
            throw .invalidField("userId", "is not a member of the team \(teamId)")
        }
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
