import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/budgets`: admins manage every budget; a team admin its teams' budgets; user tokens read their own
/// (their user's and their token's).
struct BudgetController {
    let traffic: TrafficControl
    let teams: TeamStore

    struct Body: Decodable {
        var userId: FieldUpdate<String> = .unchanged
        var tokenId: FieldUpdate<String> = .unchanged
        var teamId: FieldUpdate<String> = .unchanged
        var period: FieldUpdate<String> = .unchanged
        var maxCost: FieldUpdate<Double> = .unchanged
        var maxTokens: FieldUpdate<Int> = .unchanged
        var softThreshold: FieldUpdate<Double> = .unchanged

        enum CodingKeys: String, CodingKey {
            case userId, tokenId, teamId, period, maxCost, maxTokens, softThreshold
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            userId = try .decode(container, .userId)
            tokenId = try .decode(container, .tokenId)
            teamId = try .decode(container, .teamId)
            period = try .decode(container, .period)
            maxCost = try .decode(container, .maxCost)
            maxTokens = try .decode(container, .maxTokens)
            softThreshold = try .decode(container, .softThreshold)
        }

        /// The fields after applying this body to `current` (nil for a create), each checked and named when wrong.
        func fields(over current: Budget?) throws(ServiceError) -> BudgetRows.Fields {
            var fields = BudgetRows.Fields(
                userId: current?.userId, tokenId: current?.tokenId, teamId: current?.teamId, period: current?.period ?? .month, maxCost: current?.maxCost,
                maxTokens: current?.maxTokens, softThreshold: current?.softThreshold ?? 0.8)
            if current == nil {
                fields.userId = userId.value
                fields.tokenId = tokenId.value
                fields.teamId = teamId.value
                guard [fields.userId, fields.tokenId, fields.teamId].compactMap({ $0 }).count == 1 else {
                    throw .invalidField("userId", "give exactly one of userId, tokenId and teamId")
                }
                for (field, value) in [("userId", fields.userId), ("tokenId", fields.tokenId), ("teamId", fields.teamId)] {
                    if let value, value.isEmpty || value.count > 200 { throw .invalidField(field, "must be 1 to 200 characters") }
                }
            } else if case .set = userId {
                throw .invalidField("userId", "cannot be changed; delete the budget and create another")
            } else if case .set = tokenId {
                throw .invalidField("tokenId", "cannot be changed; delete the budget and create another")
            } else if case .set = teamId {
                throw .invalidField("teamId", "cannot be changed; delete the budget and create another")
            }
            if case .set(let raw) = period {
                guard let raw, let value = Budget.Period(rawValue: raw.lowercased()) else { throw .invalidField("period", "must be day, month or total") }
                fields.period = value
            }
            if case .set(let value) = maxCost {
                if let value, !(value.isFinite && value > 0 && value <= 1_000_000_000) { throw .invalidField("maxCost", "must be a positive number of USD") }
                fields.maxCost = value
            }
            if case .set(let value) = maxTokens {
                if let value, !(1...1_000_000_000_000).contains(value) { throw .invalidField("maxTokens", "must be a positive integer") }
                fields.maxTokens = value
            }
            if case .set(let value) = softThreshold {
                guard let value, value.isFinite, value > 0, value <= 1 else { throw .invalidField("softThreshold", "must be a fraction above 0 and at most 1") }
                fields.softThreshold = value
            }
            if fields.maxCost == nil && fields.maxTokens == nil { throw .invalidField("maxCost", "give maxCost, maxTokens or both") }
            return fields
        }
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{id}", use: show)
        group.patch("{id}", use: update)
        group.delete("{id}", use: delete)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Budget> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams)
        let body = try await request.decodeJSON(as: Body.self, context: context)
        let fields = try body.fields(over: nil)
        // An admin sets any budget; a team admin only its own teams' (another team's id is not found).
        if let teamId = fields.teamId { _ = try access.administrable(teamId) } else if !access.principal.isAdmin { throw ServiceError.forbidden() }
        let budget = try await traffic.budgets.create(
            userId: fields.userId, tokenId: fields.tokenId, teamId: fields.teamId, period: fields.period, maxCost: fields.maxCost, maxTokens: fields.maxTokens,
            softThreshold: fields.softThreshold)
        return JSONResponse(traffic.budgets.current(budget), status: .created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[Budget]> {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        if principal.actsForAnyUser {
            let all = try await BudgetRows.list(
                userId: query.get("userId"), tokenId: query.get("tokenId"), teamIds: query.get("teamId").map { [$0] }, database: traffic.budgets.database)
            return JSONResponse(all.map(traffic.budgets.current))
        }
        // A user token: its own budgets, and those of the teams its user administers.
        let own = try await BudgetRows.list(userId: principal.userId ?? "", tokenId: principal.tokenId, either: true, database: traffic.budgets.database)
        let administered = TeamAccess(principal: principal, teams: teams).administered
        let teamBudgets =
            administered.isEmpty ? [] : try await BudgetRows.list(userId: nil, tokenId: nil, teamIds: administered.sorted(), database: traffic.budgets.database)
        return JSONResponse((own + teamBudgets).map(traffic.budgets.current))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Budget> {
        JSONResponse(try await visible(try context.parameters.require("id"), principal: try context.requirePrincipal()))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Budget> {
        let principal = try context.requirePrincipal()
        let current = try await visible(try context.parameters.require("id"), principal: principal)
        try manageable(current, principal: principal)
        let body = try await request.decodeJSON(as: Body.self, context: context)
        guard let budget = try await traffic.budgets.update(id: current.id, try body.fields(over: current)) else {
            throw ServiceError.notFound("budget")
        }
        return JSONResponse(traffic.budgets.current(budget))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let current = try await visible(try context.parameters.require("id"), principal: principal)
        try manageable(current, principal: principal)
        guard try await BudgetRows.delete(id: current.id, database: traffic.budgets.database) else {
            throw ServiceError.notFound("budget")
        }
        try await traffic.budgets.reload()
        return Response(status: .noContent)
    }

    /// The budget when the caller may see it, else the same 404 as a budget that does not exist.
    private func visible(_ id: String, principal: Principal) async throws -> Budget {
        let database = traffic.budgets.database
        guard let budget = try await database.run({ try await BudgetRows.find(id: id, on: $0) }),
            principal.actsForAnyUser || (budget.userId != nil && budget.userId == principal.userId) || budget.tokenId == principal.tokenId
                || budget.teamId.map({ TeamAccess(principal: principal, teams: teams).administered.contains($0) }) == true
        else { throw ServiceError.notFound("budget") }
        return traffic.budgets.current(budget)
    }

    /// Changing a budget: an admin any; a team admin its teams' budgets; others none.
    private func manageable(_ budget: Budget, principal: Principal) throws(ServiceError) {
        guard !principal.isAdmin else { return }
        guard let teamId = budget.teamId, TeamAccess(principal: principal, teams: teams).mayAdminister(teamId) else { throw .forbidden() }
    }
}
