import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `GET /api/usage` (totals from the rollups) and `GET /api/usage/export` (the records, streamed):
/// admins and services see everyone's (or one user's with `userId`, one team's with `teamId`); a user token sees
/// its own, and a team admin its teams' (`teamId`; another team's id is not found).
struct UsageController {
    let database: Database
    let teams: TeamStore

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get(use: report)
        group.get("export", use: export)
    }

    /// The records of `[from, to)` as CSV or JSON lines, streamed page by page (constant memory).
    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        let (from, to) = try Self.range(query)
        let format = try query.get("format").map { raw throws(ServiceError) in
            guard let format = UsageExport.Format(rawValue: raw) else { throw ServiceError.invalidField("format", "must be csv or jsonl") }
            return format
        } ?? .csv
        let export = UsageExport(
            database: database, fromMillis: from, toMillis: to, userId: try Self.userId(query.get("userId"), principal: principal), format: format)
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        let name = "usage-\(Clock.iso8601(millis: from).prefix(10))-to-\(Clock.iso8601(millis: to).prefix(10)).\(format.rawValue)"
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await export.run { buffer in try await writer.write(buffer) }
            try await writer.finish(nil)
        })
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UsageReport> {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        let (from, to) = try Self.range(query)
        var grouping: UsageReport.Grouping?
        if let raw = query.get("groupBy") {
            guard let value = UsageReport.Grouping(rawValue: raw) else {
                throw ServiceError.invalidField("groupBy", "must be one of \(UsageReport.Grouping.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            grouping = value
        }
        let teamId = query.get("teamId")
        let userId: String?
        if let teamId, !principal.actsForAnyUser {
            // A team admin reads its team's calls, every member's.
            _ = try TeamAccess(principal: principal, teams: teams).administrable(teamId)
            userId = query.get("userId")
        } else {
            userId = try Self.userId(query.get("userId"), principal: principal)
        }
        return JSONResponse(
            try await UsageStore.report(database: database, fromMillis: from, toMillis: to, userId: userId, teamId: teamId, groupBy: grouping))
    }

    /// `from` and `to`: the last 30 days by default.
    static func range(_ query: Parameters) throws -> (from: Int64, to: Int64) {
        let now = Clock.nowMillis()
        let from = try Self.time(query.get("from"), field: "from") ?? now - 30 * 86_400_000
        let to = try Self.time(query.get("to"), field: "to") ?? now + 1
        guard from < to else { throw ServiceError.invalidField("from", "must be before to") }
        return (from, to)
    }

    /// Whose usage: anyone's (or `requested`'s) for admins and services; a user sees only its own, whatever it asks for.
    static func userId(_ requested: String?, principal: Principal) throws -> String? {
        guard !principal.actsForAnyUser else { return requested }
        if let requested, requested != principal.userId { throw ServiceError.forbidden("A user token sees only its own usage.") }
        return principal.userId
    }

    /// ISO 8601 timestamp or `YYYY-MM-DD`.
    static func time(_ raw: String?, field: String) throws -> Int64? {
        guard let raw else { return nil }
        let text = raw
        if let date = Clock.parseISO8601(text) ?? Clock.parseISO8601(text + "T00:00:00Z") { return Clock.millis(from: date) }
        throw ServiceError.invalidField(field, "must be an ISO 8601 date or timestamp")
    }
}
