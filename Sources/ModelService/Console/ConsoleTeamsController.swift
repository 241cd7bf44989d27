import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/teams`: admins see and create every team; a signed-in user sees the teams they are in, and manages
/// those they administer: members, and a view of the team's budgets, keys, tokens and this month's usage. Another
/// team's page answers 404, as the API does (``TeamAccess``).
struct ConsoleTeamsController {
    let pages: ConsolePages
    let teams: TeamStore
    let tokens: AccessTokenStore
    let vault: KeyVault
    let traffic: TrafficControl
    let database: Database

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("teams", use: list)
        group.post("teams", use: create)
        group.get("teams/{id}", use: show)
        group.post("teams/{id}/members", use: addMember)
        group.post("teams/{id}/members/{userId}/remove", use: removeMember)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .adminOrUser)
        let notice = request.uri.queryParameters.get("done") == "created" ? "The team was created." : nil
        return listPage(viewer: viewer, form: ConsoleForm(values: [:]), errors: FieldErrors(), notice: notice)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        var errors = FieldErrors(labels: ["name": "Team name"])
        do {
            let team = try await teams.create(name: form["name"] ?? "", actor: .init(viewer.principal))
            return ConsoleRenderer.redirect("/console/teams/\(team.id)")
        } catch let error as ServiceError where error.status < 500 {
            errors.add(error, fallbackField: "name")
        }
        return listPage(viewer: viewer, form: form, errors: errors, status: .unprocessableContent)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .adminOrUser)
        let team = try TeamAccess(principal: viewer.principal, teams: teams).readable(try context.parameters.require("id"))
        let done = request.uri.queryParameters.get("done")
        let notice = done == "added" ? "The member was saved." : done == "removed" ? "The member was removed." : nil
        return try await teamPage(viewer: viewer, team: team, form: ConsoleForm(values: ["role": "member"]), errors: FieldErrors(), notice: notice)
    }

    @Sendable func addMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .adminOrUser)
        let team = try TeamAccess(principal: viewer.principal, teams: teams).administrable(try context.parameters.require("id"))
        var errors = FieldErrors(labels: ["userId": "User ID"])
        let role = form.text("role").flatMap(TeamRole.init(rawValue:)) ?? .member
        do {
            _ = try await teams.setMember(teamId: team.id, userId: form.text("userId") ?? "", role: role, actor: .init(viewer.principal))
            return ConsoleRenderer.redirect("/console/teams/\(team.id)?done=added")
        } catch let error as ServiceError where error.status < 500 {
            errors.add(error, fallbackField: "userId")
        }
        return try await teamPage(viewer: viewer, team: team, form: form, errors: errors, status: .unprocessableContent)
    }

    @Sendable func removeMember(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .adminOrUser)
        let team = try TeamAccess(principal: viewer.principal, teams: teams).administrable(try context.parameters.require("id"))
        guard try await teams.removeMember(teamId: team.id, userId: try context.parameters.require("userId"), actor: .init(viewer.principal)) else {
            throw ServiceError.notFound("team member")
        }
        return ConsoleRenderer.redirect("/console/teams/\(team.id)?done=removed")
    }

    private func listPage(viewer: ConsoleViewer, form: ConsoleForm, errors: FieldErrors, notice: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let access = TeamAccess(principal: viewer.principal, teams: teams)
        let administered = access.administered
        let rows: [[String: Any]] = teams.teams().filter { access.mayRead($0.id) }.map { team in
            [
                "id": team.id, "name": team.name, "members": team.memberCount,
                "role": viewer.principal.isAdmin ? "admin" : administered.contains(team.id) ? "team admin" : "member",
            ]
        }
        var data: [String: Any] = ["teams": rows, "isAdmin": viewer.principal.isAdmin]
        if viewer.principal.isAdmin { data["fields"] = [ConsoleField.text("name", "Team name", value: form["name"], error: errors["name"])] }
        return pages.renderer.page(
            "teams", title: "Teams", viewer: viewer, current: "/console/teams", status: errors.isEmpty ? status : .unprocessableContent, errors: errors,
            notice: notice, data)
    }

    private func teamPage(
        viewer: ConsoleViewer, team: Team, form: ConsoleForm, errors: FieldErrors, notice: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let manages = TeamAccess(principal: viewer.principal, teams: teams).mayAdminister(team.id)
        let members: [[String: Any]] = teams.members(teamId: team.id).map { ["userId": $0.userId, "role": $0.role.rawValue, "teamId": team.id] }
        var data: [String: Any] = ["teamId": team.id, "members": members, "manages": manages]
        if manages {
            let budgets = try await BudgetRows.list(userId: nil, tokenId: nil, teamIds: [team.id], database: database).map(traffic.budgets.current)
            data["budgets"] = budgets.map { budget -> [String: Any] in
                [
                    "period": budget.period.rawValue, "limit": budget.maxCost.map(ConsoleField.money) ?? "\(budget.maxTokens ?? 0) tokens",
                    "spent": ConsoleField.money(budget.spent),
                ]
            }
            data["keys"] = try await vault.list(.init(owner: RecordBinding.teamOwner(team.id))).map { key -> [String: Any] in
                ["provider": key.provider.consoleName, "keyName": key.keyName, "masked": key.keyPrefix, "status": ConsoleKeysController.status(key)]
            }
            data["tokens"] = try await tokens.list(teamIds: [team.id]).filter { $0.revokedAt == nil }.map { token -> [String: Any] in
                ["name": token.name, "userId": token.userId ?? "", "prefix": token.tokenPrefix, "models": token.models?.joined(separator: ", ") ?? "all"]
            }
            let now = Clock.nowMillis()
            let month = Budget.Period.month.start(at: now)
            let usage = try await UsageStore.report(database: database, fromMillis: month, toMillis: now + 1, userId: nil, teamId: team.id, groupBy: .user)
            data["usage"] = usage.groups.map { ["userId": $0.key, "requests": $0.totals.requests, "cost": ConsoleField.money($0.totals.cost)] as [String: Any] }
            data["usageTotal"] = ConsoleField.money(usage.totals.cost)
            let roles = TeamRole.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": $0.rawValue == form["role"]] as [String: Any] }
            data["fields"] = [
                ConsoleField.text("userId", "User ID", value: form["userId"], error: errors["userId"]),
                ConsoleField.select("role", "Role", options: roles, error: errors["role"]),
            ]
        }
        return pages.renderer.page(
            "team", title: "Team \(team.name)", viewer: viewer, current: "/console/teams", status: errors.isEmpty ? status : .unprocessableContent,
            errors: errors, notice: notice, data)
    }
}
