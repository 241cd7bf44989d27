import SQLKit
import Synchronization

/// `INSERT INTO usage_records (…) VALUES (…), … ON CONFLICT (id) DO NOTHING RETURNING id` for one
/// slice of a batch, written straight into the serializer.
///
/// SQLKit's insert builder serializes each of a row's 20 values as nested expressions with a
/// placeholder expression per bind; callgrind put that at ~49k instructions per usage record, more
/// than the rest of the record's write. Here the statement text is made once per row count and the
/// values go to the serializer's binds as they are: the same statement, the same bound parameters.
package struct UsageRowsInsert: SQLExpression {
    package static let columns = [
        "id", "at", "user_id", "token_id", "model", "provider", "key_id", "key_source", "prompt_tokens",
        "completion_tokens", "total_tokens", "cost", "latency_ms", "status", "streamed", "error_code",
        "request_id", "attempts", "usage_estimated", "requested_model", "cache_read_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "reasoning_tokens", "priced", "deployment_id", "team_id",
    ]
    private static let head = "INSERT INTO usage_records (\(columns.joined(separator: ", "))) VALUES "

    package let records: ArraySlice<UsageRecord>
    package let dialect: SQLDialectKind

    package init(_ records: ArraySlice<UsageRecord>, dialect: SQLDialectKind) {
        self.records = records
        self.dialect = dialect
    }

    package func serialize(to serializer: inout SQLSerializer) {
        // Placeholders are numbered from 1 in both dialects: the text depends only on the row count.
        assert(serializer.binds.isEmpty, "a usage insert is a statement of its own")
        serializer.write(Self.statement(rows: records.count, dialect: dialect))
        var binds = serializer.binds
        binds.reserveCapacity(records.count * Self.columns.count)
        for record in records {
            binds.append(record.id)
            binds.append(record.at)
            binds.append(record.userId)
            binds.append(record.tokenId)
            binds.append(record.model)
            binds.append(record.provider.rawValue)
            binds.append(record.keyId)
            binds.append(record.keySource)
            binds.append(record.promptTokens)
            binds.append(record.completionTokens)
            binds.append(record.totalTokens)
            binds.append(record.cost)
            binds.append(record.latencyMs)
            binds.append(record.status)
            binds.append(record.streamed)
            binds.append(record.errorCode)
            binds.append(record.requestId)
            binds.append(record.attempts)
            binds.append(record.usageEstimated)
            binds.append(record.requestedModel)
            binds.append(record.cacheReadTokens)
            binds.append(record.cacheWriteTokens)
            binds.append(record.cacheWrite1hTokens)
            binds.append(record.reasoningTokens)
            binds.append(record.priced)
            binds.append(record.deploymentId)
            binds.append(record.teamId)
        }
        serializer.binds = binds
    }

    /// The statement text for `rows` rows, made once per row count and dialect.
    private static func statement(rows: Int, dialect: SQLDialectKind) -> String {
        let key = StatementKey(rows: rows, dialect: dialect)
        if let known = statements.withLock({ $0[key] }) { return known }
        let sql = head + placeholders(rows: rows, columns: columns.count, postgres: dialect == .postgres) + " ON CONFLICT (id) DO NOTHING RETURNING id"
        statements.withLock { $0[key] = sql }
        return sql
    }

    /// `(?, ?), (?, ?)` (SQLite) or `($1, $2), ($3, $4)` (PostgreSQL): `rows` rows of `columns` placeholders,
    /// numbered from 1. Shared by the multi-row statements written straight into the serializer.
    package static func placeholders(rows: Int, columns: Int, postgres: Bool) -> String {
        var sql = ""
        var position = 0
        for row in 0..<rows {
            sql += row == 0 ? "(" : ", ("
            sql += (0..<columns).map { _ in
                position += 1
                return (postgres ? "$" : "?") + String(position)
            }.joined(separator: ", ")
            sql += ")"
        }
        return sql
    }

    private struct StatementKey: Hashable {
        package var rows: Int
        package var dialect: SQLDialectKind
    }

    /// At most ``UsageRecorder/rowsPerStatement`` entries per dialect.
    private static let statements = Mutex<[StatementKey: String]>([:])
}
