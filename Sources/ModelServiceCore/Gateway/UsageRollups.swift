import SQLKit

/// Hourly and daily totals of usage records per user, token, model, provider and key, written in the
/// transaction that inserts the records, so reports read thousands of rollup rows instead of millions
/// of records (``UsageStore``), and pruning old records (``UsagePruner``) keeps the totals.
///
/// A batch's records are summed in memory first, so a batch becomes a few upserts. The rows are
/// upserted in key order: two instances writing the same hour lock rows in the same order.
package enum UsageRollups {
    package enum Grain: String, CaseIterable, Sendable {
        case hour, day

        package var table: String { self == .hour ? "usage_hourly" : "usage_daily" }
        package var millis: Int64 { self == .hour ? 3_600_000 : 86_400_000 }
    }

    /// The summed columns, in the order of ``Sums``' values.
    package static let sumColumns = [
        "requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "reasoning_tokens", "cost", "unpriced", "latency_ms",
    ]
    package static let keyColumns = ["bucket", "user_id", "token_id", "model", "provider", "key_id"]

    private struct Key: Hashable, Comparable {
        var bucket: Int64
        var userId: String
        var tokenId: String
        var model: String
        var provider: String
        var keyId: String

        static func < (a: Key, b: Key) -> Bool {
            (a.bucket, a.userId, a.tokenId, a.model, a.provider, a.keyId) < (b.bucket, b.userId, b.tokenId, b.model, b.provider, b.keyId)
        }
    }

    private struct Sums {
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

        /// Adds one record (its numbers are bounded already; sums saturate all the same).
        mutating func add(_ record: UsageRecord) {
            requests = Saturating.add(requests, 1)
            if !(200..<300).contains(record.status) { errors = Saturating.add(errors, 1) }
            prompt = Saturating.add(prompt, Int64(record.promptTokens))
            completion = Saturating.add(completion, Int64(record.completionTokens))
            total = Saturating.add(total, Int64(record.totalTokens))
            cacheRead = Saturating.add(cacheRead, Int64(record.cacheReadTokens))
            cacheWrite = Saturating.add(cacheWrite, Int64(record.cacheWriteTokens))
            cacheWrite1h = Saturating.add(cacheWrite1h, Int64(record.cacheWrite1hTokens))
            reasoning = Saturating.add(reasoning, Int64(record.reasoningTokens))
            cost += record.cost
            if !record.priced { unpriced = Saturating.add(unpriced, 1) }
            latency = Saturating.add(latency, Int64(record.latencyMs))
        }

        var binds: [any Encodable & Sendable] {
            [requests, errors, prompt, completion, total, cacheRead, cacheWrite, cacheWrite1h, reasoning, cost, unpriced, latency]
        }
    }

    /// Rows per upsert statement: 18 parameters each.
    private static let rowsPerStatement = 500

    /// Adds `records` to the hourly and daily rollups (inside the transaction that inserted them).
    package static func add(_ records: [UsageRecord], on sql: any SQLDatabase) async throws {
        guard !records.isEmpty else { return }
        for grain in Grain.allCases {
            var sums: [Key: Sums] = [:]
            for record in records {
                let key = Key(
                    bucket: Self.bucket(record.at, grain), userId: record.userId ?? "", tokenId: record.tokenId ?? "", model: record.model,
                    provider: record.provider.rawValue, keyId: record.keyId ?? "")
                sums[key, default: Sums()].add(record)
            }
            let ordered = sums.sorted { $0.key < $1.key }
            var start = 0
            while start < ordered.count {
                try await sql.raw(upsert(grain, ordered[start..<min(start + rowsPerStatement, ordered.count)])).run()
                start += rowsPerStatement
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

    private static func upsert(_ grain: Grain, _ rows: ArraySlice<(key: Key, value: Sums)>) -> SQLQueryString {
        let table = grain.table
        var values: [SQLQueryString] = []
        for (key, sums) in rows {
            let binds: [any Encodable & Sendable] = [key.bucket, key.userId, key.tokenId, key.model, key.provider, key.keyId] + sums.binds
            values.append("(\(binds: binds))")
        }
        let updates = sumColumns.map { "\($0) = \(table).\($0) + EXCLUDED.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: (keyColumns + sumColumns).joined(separator: ", "))) \
            VALUES \(values.joined(separator: ", ")) \
            ON CONFLICT (\(unsafeRaw: keyColumns.joined(separator: ", "))) DO UPDATE SET \(unsafeRaw: updates)
            """
    }

    /// The migration's statements: the two tables, filled from the records already there.
    package static func createStatements() -> [String] {
        var statements: [String] = []
        for grain in Grain.allCases {
            let table = grain.table
            statements.append("""
                CREATE TABLE IF NOT EXISTS \(table) (
                    bucket BIGINT NOT NULL,
                    user_id TEXT NOT NULL,
                    token_id TEXT NOT NULL,
                    model TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    requests BIGINT NOT NULL,
                    errors BIGINT NOT NULL,
                    prompt_tokens BIGINT NOT NULL,
                    completion_tokens BIGINT NOT NULL,
                    total_tokens BIGINT NOT NULL,
                    cache_read_tokens BIGINT NOT NULL,
                    cache_write_tokens BIGINT NOT NULL,
                    cache_write_1h_tokens BIGINT NOT NULL,
                    reasoning_tokens BIGINT NOT NULL,
                    cost DOUBLE PRECISION NOT NULL,
                    unpriced BIGINT NOT NULL,
                    latency_ms BIGINT NOT NULL,
                    PRIMARY KEY (bucket, user_id, token_id, model, provider, key_id)
                )
                """)
            statements.append("CREATE INDEX IF NOT EXISTS \(table)_user ON \(table) (user_id, bucket)")
            statements.append("""
                INSERT INTO \(table) (\((keyColumns + sumColumns).joined(separator: ", "))) \
                SELECT at / \(grain.millis), COALESCE(user_id, ''), COALESCE(token_id, ''), model, provider, COALESCE(key_id, ''), \
                COUNT(*), SUM(CASE WHEN status >= 200 AND status < 300 THEN 0 ELSE 1 END), SUM(prompt_tokens), SUM(completion_tokens), \
                SUM(total_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(reasoning_tokens), \
                SUM(cost), SUM(CASE WHEN priced THEN 0 ELSE 1 END), SUM(latency_ms) \
                FROM usage_records WHERE at >= 0 GROUP BY 1, 2, 3, 4, 5, 6 \
                ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO NOTHING
                """)
        }
        return statements
    }
}
