import SQLKit

/// The SQL of budget leases (PostgreSQL): headroom an instance holds in a budget row's `reserved`
/// figures, recorded per instance in `budget_leases` so that the leases of an instance that died
/// can be handed back by the others.
///
/// Every statement changes the budget row and the lease row together, so the two never disagree.
package enum BudgetLeaseRows {
    /// Headroom in both dimensions (a dimension the budget does not cap stays 0).
    package struct Amount: Sendable, Equatable {
        package var cost = 0.0
        package var tokens = 0

        package var isZero: Bool { cost <= 0 && tokens <= 0 }

        package static func += (lhs: inout Amount, rhs: Amount) {
            lhs.cost += rhs.cost
            lhs.tokens += rhs.tokens
        }

        package static func -= (lhs: inout Amount, rhs: Amount) {
            lhs.cost -= rhs.cost
            lhs.tokens -= rhs.tokens
        }
    }

    /// Leases up to `want` from the budget's room in period `periodStart`, at most an eighth of the
    /// room each dimension has left, and only when that is at least `least` (a lease too small to
    /// carry a few calls is not worth holding). Nil when the row has no such room. The row is locked
    /// (`FOR UPDATE` re-reads it after a concurrent writer), so the room is computed on current figures.
    package static func take(
        budgetId: String, periodStart: Int64, want: Amount, least: Amount, instanceId: String, at time: Int64, on sql: any SQLDatabase
    ) async throws -> Amount? {
        let ps = periodStart
        let row = try await sql.raw("""
            WITH beat AS (
                INSERT INTO traffic_instances (instance_id, last_seen) VALUES (\(bind: instanceId), \(bind: time)) \
                ON CONFLICT (instance_id) DO UPDATE SET last_seen = EXCLUDED.last_seen RETURNING instance_id
            ), row_now AS (
                SELECT id, max_cost, max_tokens, \
                CASE WHEN period_start < \(bind: ps) THEN 0 ELSE spent_cost END AS spent_cost, \
                CASE WHEN period_start < \(bind: ps) THEN 0 ELSE spent_tokens END AS spent_tokens, \
                CASE WHEN period_start < \(bind: ps) THEN 0 ELSE reserved_cost END AS reserved_cost, \
                CASE WHEN period_start < \(bind: ps) THEN 0 ELSE reserved_tokens END AS reserved_tokens, \
                GREATEST(period_start, \(bind: ps)) AS period_start \
                FROM budgets WHERE id = \(bind: budgetId) FOR UPDATE
            ), grant_ AS (
                SELECT *, \
                CASE WHEN max_cost IS NULL THEN 0 ELSE LEAST(\(bind: want.cost), (max_cost - spent_cost - reserved_cost) / 8) END AS grant_cost, \
                CASE WHEN max_tokens IS NULL THEN 0 ELSE LEAST(\(bind: Int64(want.tokens)), (max_tokens - spent_tokens - reserved_tokens) / 8) END AS grant_tokens \
                FROM row_now WHERE period_start = \(bind: ps)
            ), granted AS (
                UPDATE budgets b SET spent_cost = g.spent_cost, spent_tokens = g.spent_tokens, \
                reserved_cost = g.reserved_cost + g.grant_cost, reserved_tokens = g.reserved_tokens + g.grant_tokens, \
                period_start = g.period_start \
                FROM grant_ g WHERE b.id = g.id \
                AND (g.max_cost IS NULL OR (g.grant_cost > 0 AND g.grant_cost >= \(bind: least.cost))) \
                AND (g.max_tokens IS NULL OR (g.grant_tokens > 0 AND g.grant_tokens >= \(bind: Int64(least.tokens)))) \
                RETURNING g.grant_cost, g.grant_tokens
            ), held AS (
                INSERT INTO budget_leases AS l (budget_id, instance_id, period_start, cost, tokens) \
                SELECT \(bind: budgetId), \(bind: instanceId), \(bind: ps), grant_cost, grant_tokens FROM granted \
                ON CONFLICT (budget_id, instance_id) DO UPDATE SET \
                cost = CASE WHEN l.period_start = EXCLUDED.period_start THEN l.cost + EXCLUDED.cost ELSE EXCLUDED.cost END, \
                tokens = CASE WHEN l.period_start = EXCLUDED.period_start THEN l.tokens + EXCLUDED.tokens ELSE EXCLUDED.tokens END, \
                period_start = EXCLUDED.period_start RETURNING budget_id
            )
            SELECT grant_cost, grant_tokens, (SELECT COUNT(*) FROM held) AS held, (SELECT COUNT(*) FROM beat) AS beat FROM granted
            """).first()
        guard let row else { return nil }
        return Amount(cost: try row.decode(column: "grant_cost", as: Double.self), tokens: try row.decode(column: "grant_tokens", as: Int.self))
    }

    /// Writes what calls on a lease spent: `spent` goes to the budget, and the part of the lease
    /// they used (`consumed`) leaves its `reserved`. Returns whether the lease row was still held
    /// (false: it was handed back as an instance gone, so nothing is left in `reserved` for it) and
    /// whether the budget is crossing its soft threshold.
    package static func write(
        budgetId: String, periodStart: Int64, spent: Amount, consumed: Amount, instanceId: String, on sql: any SQLDatabase
    ) async throws -> (held: Bool, crossing: Bool) {
        let ps = periodStart
        let row = try await sql.raw("""
            WITH lease AS (
                UPDATE budget_leases SET cost = GREATEST(0, cost - \(bind: consumed.cost)), tokens = GREATEST(0, tokens - \(bind: Int64(consumed.tokens))) \
                WHERE budget_id = \(bind: budgetId) AND instance_id = \(bind: instanceId) AND period_start = \(bind: ps) RETURNING budget_id
            ), written AS (
                UPDATE budgets SET spent_cost = spent_cost + \(bind: spent.cost), spent_tokens = spent_tokens + \(bind: Int64(spent.tokens)), \
                reserved_cost = CASE WHEN period_start = \(bind: ps) AND EXISTS (SELECT 1 FROM lease) \
                THEN GREATEST(0, reserved_cost - \(bind: consumed.cost)) ELSE reserved_cost END, \
                reserved_tokens = CASE WHEN period_start = \(bind: ps) AND EXISTS (SELECT 1 FROM lease) \
                THEN GREATEST(0, reserved_tokens - \(bind: Int64(consumed.tokens))) ELSE reserved_tokens END \
                WHERE id = \(bind: budgetId) \
                RETURNING \(unsafeRaw: BudgetRows.crossingExpression) AS crossing
            )
            SELECT (SELECT COUNT(*) FROM lease) AS held, COALESCE((SELECT crossing FROM written), false) AS crossing
            """).first()
        return (try row?.decode(column: "held", as: Int.self) ?? 0 > 0, try row?.decode(column: "crossing", as: Bool.self) ?? false)
    }

    /// Hands `free` headroom of a lease back to the budget's room.
    package static func release(budgetId: String, periodStart: Int64, free: Amount, instanceId: String, on sql: any SQLDatabase) async throws {
        let ps = periodStart
        try await sql.raw("""
            WITH lease AS (
                UPDATE budget_leases SET cost = GREATEST(0, cost - \(bind: free.cost)), tokens = GREATEST(0, tokens - \(bind: Int64(free.tokens))) \
                WHERE budget_id = \(bind: budgetId) AND instance_id = \(bind: instanceId) AND period_start = \(bind: ps) RETURNING budget_id
            )
            UPDATE budgets SET reserved_cost = GREATEST(0, reserved_cost - \(bind: free.cost)), \
            reserved_tokens = GREATEST(0, reserved_tokens - \(bind: Int64(free.tokens))) \
            WHERE id = \(bind: budgetId) AND period_start = \(bind: ps) AND EXISTS (SELECT 1 FROM lease)
            """).run()
    }

    /// Hands back the leases of instances no longer beating (their heartbeat row deleted as stale, or
    /// never written): what a crashed instance held returns to its budgets. Returns the leases reclaimed.
    package static func reclaimAbandoned(on sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("""
            WITH gone AS (
                DELETE FROM budget_leases l WHERE NOT EXISTS (SELECT 1 FROM traffic_instances i WHERE i.instance_id = l.instance_id) \
                RETURNING budget_id, period_start, cost, tokens
            ), sums AS (
                SELECT budget_id, period_start, SUM(cost) AS cost, SUM(tokens) AS tokens FROM gone GROUP BY budget_id, period_start
            ), returned AS (
                UPDATE budgets b SET reserved_cost = GREATEST(0, b.reserved_cost - s.cost), reserved_tokens = GREATEST(0, b.reserved_tokens - s.tokens) \
                FROM sums s WHERE b.id = s.budget_id AND b.period_start = s.period_start RETURNING b.id
            )
            SELECT (SELECT COUNT(*) FROM gone) AS gone, (SELECT COUNT(*) FROM returned) AS returned
            """).first()?.decode(column: "gone", as: Int.self) ?? 0
    }
}
