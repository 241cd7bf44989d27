import SQLKit

/// Hourly and daily totals of usage records, written in the transaction that inserts the records, so
/// reports read thousands of rollup rows instead of millions of records (``UsageStore``), and pruning
/// old records (``UsagePruner``) keeps the totals.
///
/// Four families of rollups, each hourly and daily, so a report reads only as much detail as it needs:
/// per user, token, model, provider and key (a user's own reports, and later dimensions); per model and
/// provider (totals by day, model or provider: tens of rows a day); per user (the by-user table); per team
/// with user, token, model and provider, of calls made for a team (a team's reports, and totals by team).
///
/// A batch's records are summed in memory first, so a batch becomes a few upserts. The rows are
/// upserted in key order: two instances writing the same hour lock rows in the same order.
package enum UsageRollups {
    package enum Grain: String, CaseIterable, Sendable {
        case hour, day

        package var millis: Int64 { self == .hour ? 3_600_000 : 86_400_000 }
    }

    /// Which dimensions a rollup keeps.
    package enum Family: CaseIterable, Sendable {
        /// User, token, model, provider and key.
        case detail
        /// Model and provider.
        case models
        /// User.
        case users
        /// Team, user, token, model and provider: every report of one team.
        case teams

        /// The families migration 016 created; ``teams`` came with teams (migration 021).
        package static let beforeTeams: [Family] = [.detail, .models, .users]

        package func table(_ grain: Grain) -> String {
            let base = grain == .hour ? "usage_hourly" : "usage_daily"
            switch self {
            case .detail: return base
            case .models: return base + "_models"
            case .users: return base + "_users"
            case .teams: return base + "_teams"
            }
        }

        /// The key columns after `bucket`.
        package var dimensions: [String] {
            switch self {
            case .detail: ["user_id", "token_id", "model", "provider", "key_id"]
            case .models: ["model", "provider"]
            case .users: ["user_id"]
            case .teams: ["team_id", "user_id", "token_id", "model", "provider"]
            }
        }

        package var keyColumns: [String] { ["bucket"] + dimensions }
    }

    /// The summed columns, in the order of ``Sums``' values.
    package static let sumColumns = [
        "requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "reasoning_tokens", "cost", "unpriced", "latency_ms",
    ]
    fileprivate struct Key: Hashable, Comparable {
        var bucket: Int64
        var userId: String
        var tokenId: String
        var model: String
        var provider: String
        var keyId: String
        var teamId: String = ""

        static func < (a: Key, b: Key) -> Bool {
            if (a.bucket, a.userId, a.tokenId, a.model, a.provider) != (b.bucket, b.userId, b.tokenId, b.model, b.provider) {
                return (a.bucket, a.userId, a.tokenId, a.model, a.provider) < (b.bucket, b.userId, b.tokenId, b.model, b.provider)
            }
            return (a.keyId, a.teamId) < (b.keyId, b.teamId)
        }
    }

    fileprivate struct Sums {
        var requests: Int64 = 0
        var errors: Int64 = 0
        var prompt: Int64 = 0
        var completion: Int64 = 0
        var total: Int64 = 0
        var cacheRead: Int64 = 0
        var cacheWrite: Int64 = 0
        var cacheWrite1h: Int64 = 0
        var reasoning: Int64 = 0
        var cost: Double = 0
        var unpriced: Int64 = 0
        var latency: Int64 = 0

        init() {}

        /// One record's sums (its numbers are bounded already).
        init(_ record: UsageRecord) {
            requests = 1
            errors = (200..<300).contains(record.status) ? 0 : 1
            prompt = Int64(record.promptTokens)
            completion = Int64(record.completionTokens)
            total = Int64(record.totalTokens)
            cacheRead = Int64(record.cacheReadTokens)
            cacheWrite = Int64(record.cacheWriteTokens)
            cacheWrite1h = Int64(record.cacheWrite1hTokens)
            reasoning = Int64(record.reasoningTokens)
            cost = record.cost
            unpriced = record.priced ? 0 : 1
            latency = Int64(record.latencyMs)
        }

        /// Adds another key's sums (saturating: rows summed from outside data).
        mutating func add(_ other: Sums) {
            requests = Saturating.add(requests, other.requests)
            errors = Saturating.add(errors, other.errors)
            prompt = Saturating.add(prompt, other.prompt)
            completion = Saturating.add(completion, other.completion)
            total = Saturating.add(total, other.total)
            cacheRead = Saturating.add(cacheRead, other.cacheRead)
            cacheWrite = Saturating.add(cacheWrite, other.cacheWrite)
            cacheWrite1h = Saturating.add(cacheWrite1h, other.cacheWrite1h)
            reasoning = Saturating.add(reasoning, other.reasoning)
            cost += other.cost
            unpriced = Saturating.add(unpriced, other.unpriced)
            latency = Saturating.add(latency, other.latency)
        }

        var binds: [any Encodable & Sendable] {
            [requests, errors, prompt, completion, total, cacheRead, cacheWrite, cacheWrite1h, reasoning, cost, unpriced, latency]
        }
    }

    /// Rows per upsert statement: 18 parameters each.
    private static let rowsPerStatement = 500

    /// Adds `records` to every rollup (inside the transaction that inserted them).
    package static func add(_ records: [UsageRecord], on sql: any SQLDatabase) async throws {
        guard !records.isEmpty else { return }
        for grain in Grain.allCases {
            var detail: [Key: Sums] = [:]
            for record in records {
                let key = Key(
                    bucket: Self.bucket(record.at, grain), userId: record.userId ?? "", tokenId: record.tokenId ?? "", model: record.model,
                    provider: record.provider.rawValue, keyId: record.keyId ?? "", teamId: record.teamId ?? "")
                detail[key, default: Sums()].add(Sums(record))
            }
            for family in Family.allCases {
                // Every family, the detailed one too (it has no team column), sums the keys it cannot tell apart.
                var sums: [Key: Sums] = [:]
                // The teams family holds team calls only: an installation without teams writes none of it.
                for (key, value) in detail where family != .teams || !key.teamId.isEmpty { sums[family.narrow(key), default: Sums()].add(value) }
                let ordered = sums.sorted { $0.key < $1.key }
                var start = 0
                while start < ordered.count {
                    try await sql.raw("\(upsert(family, grain, ordered[start..<min(start + rowsPerStatement, ordered.count)]))").run()
                    start += rowsPerStatement
                }
            }
        }
    }

    /// The bucket (hour or day number) holding `millis`, rounded down also before 1970.
    package static func bucket(_ millis: Int64, _ grain: Grain) -> Int64 {
        bucketFloor(millis, grain.millis)
    }

    /// `value / divisor` rounded down (Swift's division rounds toward zero).
    package static func bucketFloor(_ value: Int64, _ divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }

    private static func upsert(_ family: Family, _ grain: Grain, _ rows: ArraySlice<(key: Key, value: Sums)>) -> UsageRollupUpsert {
        UsageRollupUpsert(table: family.table(grain), keyColumns: family.keyColumns, rows: rows.map { family.binds($0.key) + $0.value.binds })
    }

    /// A migration's statements: the `families`' tables, filled from the records already there.
    package static func createStatements(_ families: [Family]) -> [String] {
        var statements: [String] = []
        let sources: [String: String] = [
            "user_id": "COALESCE(user_id, '')", "token_id": "COALESCE(token_id, '')", "model": "model", "provider": "provider",
            "key_id": "COALESCE(key_id, '')", "team_id": "COALESCE(team_id, '')",
        ]
        for family in families {
            for grain in Grain.allCases {
                let table = family.table(grain)
                let dimensions = family.dimensions.map { "    \($0) TEXT NOT NULL,\n" }.joined()
                let sums = sumColumns.map { "    \($0) \($0 == "cost" ? "DOUBLE PRECISION" : "BIGINT") NOT NULL,\n" }.joined()
                statements.append("""
                    CREATE TABLE IF NOT EXISTS \(table) (
                        bucket BIGINT NOT NULL,
                    \(dimensions)\(sums)    PRIMARY KEY (\(family.keyColumns.joined(separator: ", ")))
                    )
                    """)
                if family == .detail { statements.append("CREATE INDEX IF NOT EXISTS \(table)_user ON \(table) (user_id, bucket)") }
                if family == .teams { statements.append("CREATE INDEX IF NOT EXISTS \(table)_team ON \(table) (team_id, bucket)") }
                let groups = (1...family.keyColumns.count).map(String.init).joined(separator: ", ")
                statements.append("""
                    INSERT INTO \(table) (\((family.keyColumns + sumColumns).joined(separator: ", "))) \
                    SELECT at / \(grain.millis), \(family.dimensions.map { sources[$0]! }.joined(separator: ", ")), \
                    COUNT(*), SUM(CASE WHEN status >= 200 AND status < 300 THEN 0 ELSE 1 END), SUM(prompt_tokens), SUM(completion_tokens), \
                    SUM(total_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(reasoning_tokens), \
                    SUM(cost), SUM(CASE WHEN priced THEN 0 ELSE 1 END), SUM(latency_ms) \
                    FROM usage_records WHERE at >= 0\(family == .teams ? " AND team_id IS NOT NULL" : "") GROUP BY \(groups) \
                    ON CONFLICT (\(family.keyColumns.joined(separator: ", "))) DO NOTHING
                    """)
            }
        }
        return statements
    }
}

extension UsageRollups.Family {
    /// A detail key reduced to this family's dimensions (the others emptied).
    fileprivate func narrow(_ key: UsageRollups.Key) -> UsageRollups.Key {
        switch self {
        case .detail: .init(bucket: key.bucket, userId: key.userId, tokenId: key.tokenId, model: key.model, provider: key.provider, keyId: key.keyId)
        case .models: .init(bucket: key.bucket, userId: "", tokenId: "", model: key.model, provider: key.provider, keyId: "")
        case .users: .init(bucket: key.bucket, userId: key.userId, tokenId: "", model: "", provider: "", keyId: "")
        case .teams: .init(bucket: key.bucket, userId: key.userId, tokenId: key.tokenId, model: key.model, provider: key.provider, keyId: "", teamId: key.teamId)
        }
    }

    /// The key's values for this family's columns, in order.
    fileprivate func binds(_ key: UsageRollups.Key) -> [any Encodable & Sendable] {
        switch self {
        case .detail: [key.bucket, key.userId, key.tokenId, key.model, key.provider, key.keyId]
        case .models: [key.bucket, key.model, key.provider]
        case .users: [key.bucket, key.userId]
        case .teams: [key.bucket, key.teamId, key.userId, key.tokenId, key.model, key.provider]
        }
    }
}
