import SQLKit

/// `INSERT INTO usage_records (…) VALUES (…), … ON CONFLICT (id) DO NOTHING RETURNING id` for one
/// slice of a batch, written straight into the serializer.
///
/// SQLKit's insert builder serializes each of a row's 20 values as nested expressions with a
/// placeholder expression per bind; callgrind put that at ~49k instructions per usage record, more
/// than the rest of the record's write. Here the placeholders are text and the values go to the
/// serializer's binds as they are: the same statement and the same bound parameters.
struct UsageRowsInsert: SQLExpression {
    static let columns = [
        "id", "at", "user_id", "token_id", "model", "provider", "key_id", "key_source", "prompt_tokens",
        "completion_tokens", "total_tokens", "cost", "latency_ms", "status", "streamed", "error_code",
        "request_id", "attempts", "usage_estimated", "requested_model",
    ]
    private static let head = "INSERT INTO usage_records (\(columns.joined(separator: ", "))) VALUES "

    let records: ArraySlice<UsageRecord>
    /// `?` for SQLite, `$` for PostgreSQL: both number their placeholders from 1.
    let placeholderPrefix: String

    init(_ records: ArraySlice<UsageRecord>, dialect: SQLDialectKind) {
        self.records = records
        placeholderPrefix = dialect == .postgres ? "$" : "?"
    }

    func serialize(to serializer: inout SQLSerializer) {
        var sql = Self.head
        sql.reserveCapacity(Self.head.utf8.count + records.count * 20 * 6 + 64)
        var binds = serializer.binds
        for (row, record) in records.enumerated() {
            if row > 0 { sql += ", " }
            let values: [any Encodable & Sendable] = [
                record.id, record.at, record.userId, record.tokenId, record.model, record.provider.rawValue, record.keyId, record.keySource,
                record.promptTokens, record.completionTokens, record.totalTokens, record.cost, record.latencyMs, record.status,
                record.streamed, record.errorCode, record.requestId, record.attempts, record.usageEstimated, record.requestedModel,
            ]
            sql += "("
            for (column, value) in values.enumerated() {
                binds.append(value)
                if column > 0 { sql += ", " }
                sql += placeholderPrefix
                sql += String(binds.count)
            }
            sql += ")"
        }
        sql += " ON CONFLICT (id) DO NOTHING RETURNING id"
        serializer.binds = binds
        serializer.write(sql)
    }
}
