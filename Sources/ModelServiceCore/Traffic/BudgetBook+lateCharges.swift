import SQLKit

/// Charges a call to the budgets it did not reserve on: those created after this instance admitted it,
/// or created on another instance it had not heard of yet. So a budget's `spent` is the sum of the
/// usage records that settled since its creation, whichever instance served them.
///
/// PostgreSQL: in the transaction that writes the records, from the `budgets` rows themselves (this
/// instance's index may still lag). SQLite: one instance, whose index has every budget by the time
/// the records are written; the memory ledger is charged once the batch committed.
extension BudgetBook: UsageWriteHook {
    package func writing(_ records: [UsageRecord], on sql: any SQLDatabase) async throws {
        guard database.dialect == .postgres else { return }
        try await LateBudgetCharges.charge(records.filter { $0.cost > 0 || $0.totalTokens > 0 }, on: sql)
    }

    package func written(_ records: [UsageRecord]) {
        guard database.dialect != .postgres else { return }
        for record in records where record.cost > 0 || record.totalTokens > 0 {
            let late = budgets(userId: record.userId, tokenId: record.tokenId ?? "").filter {
                $0.createdAt <= record.at && !record.budgetIds.contains($0.id)
            }
            guard !late.isEmpty else { continue }
            let charges = late.map {
                BudgetRows.Reservation(budgetId: $0.id, periodStart: $0.period.start(at: record.at), cost: 0, tokens: 0)
            }
            _ = ledger.settle(charges, cost: record.cost, tokens: record.totalTokens)
        }
    }
}

/// The SQL of late charges on PostgreSQL: one read finds the budgets a slice of records owes (none,
/// nearly always), then each is charged in id order, the order every multi-budget reservation locks
/// in, so this never deadlocks with them.
package enum LateBudgetCharges {
    package static func charge(_ records: [UsageRecord], on sql: any SQLDatabase) async throws {
        guard !records.isEmpty else { return }
        // One array per column (six parameters for any number of records). Budget ids are UUIDs: a
        // comma-joined list is searched without ambiguity. No budget has an empty user or token id.
        let query: SQLQueryString = """
            SELECT b.id AS id, SUM(v.cost) AS cost, CAST(SUM(v.tokens) AS BIGINT) AS tokens FROM budgets b \
            JOIN unnest(\(bind: records.map { $0.userId ?? "" }), \(bind: records.map { $0.tokenId ?? "" }), \(bind: records.map(\.at)), \
            \(bind: records.map(\.cost)), \(bind: records.map { Int64($0.totalTokens) }), \(bind: records.map { $0.budgetIds.joined(separator: ",") })) \
            AS v (user_id, token_id, at, cost, tokens, charged) \
            ON (b.user_id = v.user_id OR b.token_id = v.token_id) AND b.created_at <= v.at AND b.period_start <= v.at \
            AND strpos(v.charged, b.id) = 0 \
            GROUP BY b.id ORDER BY b.id
            """
        for row in try await sql.raw(query).all() {
            let id = try row.decode(column: "id", as: String.self)
            let cost = try row.decode(column: "cost", as: Double.self)
            let tokens = try row.decode(column: "tokens", as: Int64.self)
            try await sql.raw("""
                UPDATE budgets SET spent_cost = spent_cost + \(bind: cost), spent_tokens = spent_tokens + \(bind: tokens) WHERE id = \(bind: id)
                """).run()
        }
    }
}
