import Foundation
import Hummingbird
import ModelServiceCore

/// `GET /api/usage`: admins and services see everyone's (or one user's with `userId`); a user token sees its own.
struct UsageController {
    let database: Database

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get(use: report)
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UsageReport> {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        let now = Clock.nowMillis()
        let from = try Self.time(query.get("from"), field: "from") ?? now - 30 * 86_400_000
        let to = try Self.time(query.get("to"), field: "to") ?? now + 1
        guard from < to else { throw ServiceError.invalidField("from", "must be before to") }
        var grouping: UsageReport.Grouping?
        if let raw = query.get("groupBy") {
            guard let value = UsageReport.Grouping(rawValue: raw) else {
                throw ServiceError.invalidField("groupBy", "must be one of model, provider, user, day")
            }
            grouping = value
        }
        let requested: String? = query.get("userId")
        let userId: String?
        if principal.actsForAnyUser {
            userId = requested
        } else {
            // A user sees only its own usage, whatever it asks for.
            if let requested, requested != principal.userId { throw ServiceError.forbidden("A user token sees only its own usage.") }
            userId = principal.userId
        }
        return JSONResponse(try await UsageStore.report(database: database, fromMillis: from, toMillis: to, userId: userId, groupBy: grouping))
    }

    /// ISO 8601 timestamp or `YYYY-MM-DD`.
    static func time(_ raw: String?, field: String) throws -> Int64? {
        guard let raw else { return nil }
        let text = raw
        if let date = Clock.parseISO8601(text) ?? Clock.parseISO8601(text + "T00:00:00Z") { return Clock.millis(from: date) }
        throw ServiceError.invalidField(field, "must be an ISO 8601 date or timestamp")
    }
}
