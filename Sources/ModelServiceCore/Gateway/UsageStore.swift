import Foundation
import SQLKit

/// The SQL behind `/api/usage`: totals of `usage_records` over a time range, grouped, on either database.
package enum UsageStore {
    /// Runs the report on the database. `userId` restricts it to one user's calls;
    /// `limit`/`offset` page the groups (the console pages its by-user table).
    package static func report(
        database: Database, fromMillis: Int64, toMillis: Int64, userId: String?, groupBy: UsageReport.Grouping?, limit: Int? = nil, offset: Int = 0
    ) async throws -> UsageReport {
        let rows = try await database.run { sql in
            try await sql.raw(query(fromMillis: fromMillis, toMillis: toMillis, userId: userId, groupBy: groupBy, limit: limit, offset: offset)).all()
        }
        var groups: [UsageReport.Group] = []
        var totals = UsageReport.Totals(requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0)
        for row in rows {
            let group = UsageReport.Totals(
                requests: try row.decode(column: "requests", as: Int.self),
                promptTokens: try row.decode(column: "prompt_tokens", as: Int.self),
                completionTokens: try row.decode(column: "completion_tokens", as: Int.self),
                totalTokens: try row.decode(column: "total_tokens", as: Int.self),
                cost: try row.decode(column: "cost", as: Double.self)
            )
            totals.add(group)
            if groupBy != nil { groups.append(UsageReport.Group(key: try Self.groupKey(row, groupBy), totals: group)) }
        }
        return UsageReport(
            from: Clock.iso8601(millis: fromMillis), to: Clock.iso8601(millis: toMillis), userId: userId, groupBy: groupBy,
            totals: totals, groups: groups
        )
    }

    /// The aggregate query, also for checking its plan: it reads `usage_records` by the `at` (or `user_id, at`) index.
    package static func query(
        fromMillis: Int64, toMillis: Int64, userId: String?, groupBy: UsageReport.Grouping?, limit: Int? = nil, offset: Int = 0
    ) -> SQLQueryString {
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back so both databases decode the same.
        let key = groupBy.map { "\($0.expression)" } ?? "'all'"
        var query: SQLQueryString = """
            SELECT \(unsafeRaw: key) AS group_key, COUNT(*) AS requests,
            CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
            CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens,
            CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS total_tokens, COALESCE(SUM(cost), 0) AS cost
            FROM usage_records WHERE at >= \(bind: fromMillis) AND at < \(bind: toMillis)
            """
        if let userId { query = query + " AND user_id = \(bind: userId)" }
        query = query + " GROUP BY \(unsafeRaw: groupBy == nil ? "1" : key) ORDER BY 1"
        if let limit { query = query + " LIMIT \(bind: limit) OFFSET \(bind: offset)" }
        return query
    }

    private static func groupKey(_ row: any SQLRow, _ grouping: UsageReport.Grouping?) throws -> String {
        switch grouping {
        case .day:
            let day = try row.decode(column: "group_key", as: Int64.self)
            return String(Clock.iso8601(millis: day * 86_400_000).prefix(10))
        case .user:
            return try row.decode(column: "group_key", as: String?.self) ?? "(none)"
        default:
            return try row.decode(column: "group_key", as: String.self)
        }
    }
}
