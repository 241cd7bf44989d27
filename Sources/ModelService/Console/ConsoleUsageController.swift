import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/usage` (admin), its CSV, and `/console/my-usage` (a user's own): per-day charts and
/// tables from ``UsageReport``, the aggregate `/api/usage` runs, read from the usage rollups.
struct ConsoleUsageController {
    let pages: ConsolePages
    let database: Database
    let traffic: TrafficControl
    let teams: TeamStore
    static let usersPerPage = 50

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("usage", use: usage)
        group.get("usage.csv", use: csv)
        group.get("my-usage", use: myUsage)
    }

    /// The chosen days: `from` and `to` inclusive, as `YYYY-MM-DD`; the last 30 days by default.
    struct Range {
        var from: String
        var to: String
        var fromMillis: Int64
        var toMillis: Int64

        static func parse(_ request: Request, errors: inout FieldErrors) -> Range {
            let query = request.uri.queryParameters
            let today = Clock.nowMillis() / 86_400_000 * 86_400_000
            func day(_ name: String, default value: Int64) -> Int64 {
                guard let text = query.get(name), !text.isEmpty else { return value }
                guard text.count == 10, let date = Clock.parseISO8601(text + "T00:00:00Z") else {
                    errors.add(name, "must be a date as YYYY-MM-DD")
                    return value
                }
                return Clock.millis(from: date)
            }
            var from = day("from", default: today - 29 * 86_400_000)
            var to = day("to", default: today)
            if to < from {
                errors.add("to", "must be on or after the start date")
                (from, to) = (today - 29 * 86_400_000, today)
            } else if to - from > 365 * 86_400_000 {
                errors.add("to", "must be at most 366 days after From")
                from = to - 365 * 86_400_000
            }
            return Range(
                from: String(Clock.iso8601(millis: from).prefix(10)), to: String(Clock.iso8601(millis: to).prefix(10)),
                fromMillis: from, toMillis: to + 86_400_000
            )
        }
    }

    @Sendable func usage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        var errors = FieldErrors(labels: ["from": "From", "to": "To"])
        let range = Range.parse(request, errors: &errors)
        let page = ConsolePages.pageNumber(request)
        var data = try await charts(range: range, userId: nil)
        for grouping in [UsageReport.Grouping.model, .provider, .team, .token] {
            let report = try await UsageStore.report(database: database, fromMillis: range.fromMillis, toMillis: range.toMillis, userId: nil, groupBy: grouping)
            data["by\(grouping.rawValue.capitalized)"] = report.groups.map(Self.row).map { row in
                // A team by its name (its id when deleted since).
                guard grouping == .team, let id = row["key"] as? String, let team = teams.team(id: id) else { return row }
                return row.merging(["key": team.name]) { _, new in new }
            }
        }
        let users = try await UsageStore.report(
            database: database, fromMillis: range.fromMillis, toMillis: range.toMillis, userId: nil, groupBy: .user,
            limit: Self.usersPerPage + 1, offset: (page - 1) * Self.usersPerPage
        )
        data["byUser"] = users.groups.prefix(Self.usersPerPage).map(Self.row)
        let base = "/console/usage?from=\(range.from)&to=\(range.to)"
        if users.groups.count > Self.usersPerPage { data["nextPage"] = "\(base)&page=\(page + 1)" }
        if page > 1 { data["previousPage"] = "\(base)&page=\(page - 1)" }
        data["csvLink"] = "/console/usage.csv?from=\(range.from)&to=\(range.to)"
        data["action"] = "/console/usage"
        data["admin"] = true
        return pages.renderer.page("usage", title: "Usage", viewer: viewer, current: "/console/usage", errors: errors, data)
    }

    @Sendable func myUsage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .user)
        var errors = FieldErrors(labels: ["from": "From", "to": "To"])
        let range = Range.parse(request, errors: &errors)
        var data = try await charts(range: range, userId: viewer.principal.userId)
        let byModel = try await UsageStore.report(
            database: database, fromMillis: range.fromMillis, toMillis: range.toMillis, userId: viewer.principal.userId, groupBy: .model)
        data["byModel"] = byModel.groups.map(Self.row)
        data["action"] = "/console/my-usage"
        // The user's budgets (and its token's), with live spending, as `/api/budgets` shows them.
        let budgets = try await BudgetRows.list(
            userId: viewer.principal.userId ?? "", tokenId: viewer.principal.tokenId, either: true, database: traffic.budgets.database)
        data["budget"] = budgets.map(traffic.budgets.current).map(Self.budgetRow)
        return pages.renderer.page("usage", title: "My usage", viewer: viewer, current: "/console/my-usage", errors: errors, data)
    }

    /// "Spent … of …; … remaining" for one budget, in USD or tokens, with its period.
    static func budgetRow(_ budget: Budget) -> [String: Any] {
        let period = budget.period == .total ? "in total" : "per \(budget.period.rawValue)"
        if let maxCost = budget.maxCost {
            return ["limit": "\(ConsoleField.money(maxCost)) \(period)", "spent": ConsoleField.money(budget.spent),
                    "remaining": ConsoleField.money(budget.remaining ?? max(0, maxCost - budget.spent))]
        }
        let maxTokens = budget.maxTokens ?? 0
        return ["limit": "\(maxTokens) tokens \(period)", "spent": "\(budget.spentTokens) tokens",
                "remaining": "\(budget.remainingTokens ?? max(0, maxTokens - budget.spentTokens)) tokens"]
    }

    /// One row per day of the range: date, requests, prompt, completion and total tokens, cost.
    @Sendable func csv(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await pages.viewer(request, .admin)
        var errors = FieldErrors(labels: ["from": "From", "to": "To"])
        let range = Range.parse(request, errors: &errors)
        let report = try await UsageStore.report(database: database, fromMillis: range.fromMillis, toMillis: range.toMillis, userId: nil, groupBy: .day)
        var text = "date,requests,prompt_tokens,completion_tokens,total_tokens,cost_usd\n"
        for (day, totals) in UsageChart.days(fromMillis: range.fromMillis, toMillis: range.toMillis, groups: report.groups) {
            let t = totals ?? .init(requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0)
            text += "\(day),\(t.requests),\(t.promptTokens),\(t.completionTokens),\(t.totalTokens),\(String(format: "%.6f", t.cost))\n"
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"usage-\(range.from)-to-\(range.to).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func charts(range: Range, userId: String?) async throws -> [String: Any] {
        let report = try await UsageStore.report(database: database, fromMillis: range.fromMillis, toMillis: range.toMillis, userId: userId, groupBy: .day)
        let days = UsageChart.days(fromMillis: range.fromMillis, toMillis: range.toMillis, groups: report.groups)
        let cost = UsageChart(title: "Cost per day (USD)", bars: days.map { .init(label: $0.day, value: $0.totals?.cost ?? 0, text: ConsoleField.money($0.totals?.cost ?? 0)) })
        let tokens = UsageChart(title: "Tokens per day", wholeNumbers: true, bars: days.map {
            .init(label: $0.day, value: Double($0.totals?.totalTokens ?? 0), text: "\($0.totals?.totalTokens ?? 0) tokens")
        })
        return [
            "from": range.from, "to": range.to, "costChart": cost.svg(), "tokenChart": tokens.svg(),
            "days": days.filter { $0.totals != nil }.map { Self.row(.init(key: $0.day, totals: $0.totals!)) },
            "totals": Self.row(.init(key: "Total", totals: report.totals)),
        ]
    }

    static func row(_ group: UsageReport.Group) -> [String: Any] {
        [
            "key": group.key, "requests": group.totals.requests, "promptTokens": group.totals.promptTokens,
            "completionTokens": group.totals.completionTokens, "totalTokens": group.totals.totalTokens, "cost": ConsoleField.money(group.totals.cost),
        ]
    }
}
