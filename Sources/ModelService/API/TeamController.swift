import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/teams`: admins create, rename and delete teams; admins and each team's team admins manage its members.
struct TeamController {
    let teams: TeamStore

    struct TeamBody: Decodable {
        var name: String
    }

    /// A change: a new name, new limits, or both.
    struct TeamChanges: Decodable {
        var name: String?
        var limits: [TeamLimit]?
    }

    struct MemberBody: Decodable {
        var userId: String
        var role: TeamRole?
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{id}", use: show)
        group.patch("{id}", use: rename)
        group.delete("{id}", use: delete)
        group.post("{id}/members", use: addMember)
        group.get("{id}/members", use: members)
        group.delete("{id}/members/{userId}", use: removeMember)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Team> {
        let principal = try context.requireAdmin()
        let body = try await request.decodeJSON(as: TeamBody.self, context: context)
        return JSONResponse(try await teams.create(name: body.name, actor: .init(principal, requestId: context.requestId)), status: .created)
    }

    /// Every team for admin and service tokens; a user token's own teams.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[Team]> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams)
        return JSONResponse(teams.teams().filter { access.mayRead($0.id) })
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Team> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams)
        return JSONResponse(try access.readable(try context.parameters.require("id")))
    }

    /// Renames a team and sets its limits (admin).
    @Sendable func rename(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Team> {
        let principal = try context.requireAdmin()
        let body = try await request.decodeJSON(as: TeamChanges.self, context: context)
        let id = try context.parameters.require("id")
        let limits = try body.limits.map { limits throws(ServiceError) in try TeamLimit.checked(limits) }
        guard body.name != nil || limits != nil else { throw ServiceError.invalidField("name", "give name, limits or both") }
        let actor = AuditLog.Actor(principal, requestId: context.requestId)
        guard var team = teams.team(id: id) else { throw ServiceError.notFound("team") }
        if let name = body.name, let renamed = try await teams.rename(id: id, name: name, actor: actor) { team = renamed }
        if let limits, let limited = try await teams.setLimits(id: id, limits: limits, actor: actor) { team = limited }
        return JSONResponse(team)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireAdmin()
        guard try await teams.delete(id: try context.parameters.require("id"), actor: .init(principal, requestId: context.requestId)) else {
            throw ServiceError.notFound("team")
        }
        return Response(status: .noContent)
    }

    /// Adds a member (default role `member`) or changes a member's role.
    @Sendable func addMember(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TeamMember> {
        let principal = try context.requirePrincipal()
        let team = try TeamAccess(principal: principal, teams: teams).administrable(try context.parameters.require("id"))
        let body = try await request.decodeJSON(as: MemberBody.self, context: context)
        let member = try await teams.setMember(
            teamId: team.id, userId: body.userId, role: body.role ?? .member, actor: .init(principal, requestId: context.requestId))
        return JSONResponse(member, status: .created)
    }

    @Sendable func members(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[TeamMember]> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams)
        return JSONResponse(teams.members(teamId: try access.readable(try context.parameters.require("id")).id))
    }

    @Sendable func removeMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let team = try TeamAccess(principal: principal, teams: teams).administrable(try context.parameters.require("id"))
        let userId = try context.parameters.require("userId")
        guard try await teams.removeMember(teamId: team.id, userId: userId, actor: .init(principal, requestId: context.requestId)) else {
            throw ServiceError.notFound("team member")
        }
        return Response(status: .noContent)
    }
}
