import Foundation
import SQLKit

/// The SQL behind `/api/usage` and the console's usage pages: totals over a time range, grouped, on
/// either database, read from the rollups (``UsageRollups``).
///
/// A range is cut into whole days (daily rollups), whole hours at its ends (hourly rollups) and the
/// minutes before its first and after its last whole hour (the records themselves, by the `at` index),
/// so any range is exact and a 90-day report reads a few thousand rollup rows, not millions of records.
/// A report reads the narrowest family of rollups that has its dimensions: per model for totals by day,
/// model or provider; per user for the by-user table; the detailed one for one user's reports.
package enum UsageStore {
    /// Runs the report on the database. `userId` restricts it to one user's calls;
    /// `limit`/`offset` page the groups (the console pages its by-user table).
    package static func report(
        database: Database, fromMillis: Int64, toMillis: Int64, userId: String?, teamId: String? = nil, groupBy: UsageReport.Grouping?,
        limit: Int? = nil, offset: Int = 0
    ) async throws -> UsageReport {
        let rows = try await database.run { sql in
            try await sql.raw(
                query(fromMillis: fromMillis, toMillis: toMillis, userId: userId, teamId: teamId, groupBy: groupBy, limit: limit, offset: offset)
            ).all()
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
            from: Clock.iso8601(millis: fromMillis), to: Clock.iso8601(millis: toMillis), userId: userId, teamId: teamId, groupBy: groupBy,
            totals: totals, groups: groups
        )
    }

    /// Where each part of `[from, to)` is read from.
    package enum Source: Equatable {
        /// Records with `at` in the range (millis).
        case records(Int64, Int64)
        /// Rollup buckets in the range (hour or day numbers).
        case rollup(UsageRollups.Grain, Int64, Int64)
    }

    /// `[from, to)` as records before the first whole hour and after the last, hours up to the first
    /// whole day and after the last, and days between: every instant in exactly one part.
    package static func sources(fromMillis from: Int64, toMillis to: Int64) -> [Source] {
        let hour = UsageRollups.Grain.hour.millis
        let firstHour = ceilDiv(from, hour)
        let endHour = UsageRollups.bucket(to, .hour)
        guard firstHour < endHour else { return from < to ? [.records(from, to)] : [] }
        var parts: [Source] = []
        if from < firstHour * hour { parts.append(.records(from, firstHour * hour)) }
        let firstDay = ceilDiv(firstHour, 24)
        let endDay = UsageRollups.bucketFloor(endHour, 24)
        if firstDay < endDay {
            if firstHour < firstDay * 24 { parts.append(.rollup(.hour, firstHour, firstDay * 24)) }
            parts.append(.rollup(.day, firstDay, endDay))
            if endDay * 24 < endHour { parts.append(.rollup(.hour, endDay * 24, endHour)) }
        } else {
            parts.append(.rollup(.hour, firstHour, endHour))
        }
        if endHour * hour < to { parts.append(.records(endHour * hour, to)) }
        return parts
    }

    /// The aggregate query: a UNION ALL of the parts' grouped sums, summed again by group.
    package static func query(
        fromMillis: Int64, toMillis: Int64, userId: String?, teamId: String? = nil, groupBy: UsageReport.Grouping?, limit: Int? = nil, offset: Int = 0
    ) -> SQLQueryString {
        let family: UsageRollups.Family =
            teamId != nil || groupBy == .team ? .teams : userId != nil || groupBy == .token ? .detail : groupBy == .user ? .users : .models
        var parts: [SQLQueryString] = []
        for source in sources(fromMillis: fromMillis, toMillis: toMillis) {
            var part: SQLQueryString
            switch source {
            case .records(let from, let to):
                part = """
                    SELECT \(unsafeRaw: key(groupBy, source)) AS group_key, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, \
                    SUM(completion_tokens) AS completion_tokens, SUM(total_tokens) AS total_tokens, SUM(cost) AS cost \
                    FROM usage_records WHERE at >= \(bind: from) AND at < \(bind: to)
                    """
            case .rollup(let grain, let from, let to):
                part = """
                    SELECT \(unsafeRaw: key(groupBy, source)) AS group_key, SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens, \
                    SUM(completion_tokens) AS completion_tokens, SUM(total_tokens) AS total_tokens, SUM(cost) AS cost \
                    FROM \(unsafeRaw: family.table(grain)) WHERE bucket >= \(bind: from) AND bucket < \(bind: to)
                    """
            }
            if let userId { part = part + " AND user_id = \(bind: userId)" }
            if let teamId { part = part + " AND team_id = \(bind: teamId)" }
            // By team: the calls made for a team (the rollups hold no others).
            if teamId == nil, groupBy == .team, case .records = source { part = part + " AND team_id IS NOT NULL" }
            parts.append(part + " GROUP BY 1")
        }
        if parts.isEmpty {
            parts.append("SELECT 'all' AS group_key, 0 AS requests, 0 AS prompt_tokens, 0 AS completion_tokens, 0 AS total_tokens, 0.0 AS cost WHERE 1 = 0")
        }
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back so both databases decode the same.
        var query: SQLQueryString = """
            SELECT group_key, CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
            CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, CAST(SUM(total_tokens) AS BIGINT) AS total_tokens, \
            CAST(SUM(cost) AS DOUBLE PRECISION) AS cost FROM (\(parts.joined(separator: " UNION ALL "))) AS parts \
            GROUP BY group_key ORDER BY group_key
            """
        if let limit { query = query + " LIMIT \(bind: limit) OFFSET \(bind: offset)" }
        return query
    }

    /// A fixed expression per grouping and source (never client text).
    private static func key(_ grouping: UsageReport.Grouping?, _ source: Source) -> String {
        let records: Bool
        let grain: UsageRollups.Grain
        switch source {
        case .records: (records, grain) = (true, .hour)
        case .rollup(let g, _, _): (records, grain) = (false, g)
        }
        switch grouping {
        case nil: return "'all'"
        case .model: return "model"
        case .provider: return "provider"
        case .user: return records ? "COALESCE(user_id, '')" : "user_id"
        case .team: return records ? "COALESCE(team_id, '')" : "team_id"
        case .token: return records ? "COALESCE(token_id, '')" : "token_id"
        case .day: return records ? "at / 86400000" : grain == .hour ? "bucket / 24" : "bucket"
        }
    }

    /// `value / divisor` rounded up (`divisor` > 1: the quotient plus one cannot overflow).
    private static func ceilDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder > 0 ? quotient + 1 : quotient
    }

    private static func groupKey(_ row: any SQLRow, _ grouping: UsageReport.Grouping?) throws -> String {
        switch grouping {
        case .day:
            let day = try row.decode(column: "group_key", as: Int64.self)
            return String(Clock.iso8601(millis: day * 86_400_000).prefix(10))
        case .user, .team, .token:
            let key = try row.decode(column: "group_key", as: String?.self) ?? ""
            return key.isEmpty ? "(none)" : key
        default:
            return try row.decode(column: "group_key", as: String.self)
        }
    }
}
