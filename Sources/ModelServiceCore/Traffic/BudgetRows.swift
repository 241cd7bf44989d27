import Foundation
import SQLKit

/// The SQL of budgets: CRUD, and the atomic reserve/settle statements every instance runs.
///
/// Reserve admits a call only while `spent + reserved` is under the maximum, in one UPDATE (the
/// row lock orders concurrent callers of every instance), so calls arriving together overshoot by
/// at most one call's estimate. A period that has ended is reset by the same statement.
package enum BudgetRows {
    package static let changeCounter = "budgets"

    package struct Reservation: Sendable {
        package var budgetId: String
        package var periodStart: Int64
        package var cost: Double
        package var tokens: Int
        /// Held on this instance's lease (PostgreSQL) rather than in the row: settled in memory.
        package var lease: BudgetLeases.Key?
    }

    /// Reserves on every budget (ordered by id, so concurrent transactions never deadlock); the id
    /// of the first budget without room, else nil. Nothing is reserved when one refuses. One budget
    /// (the usual case) is one statement, atomic on its own: no transaction round-trips around it.
    package static func reserve(_ reservations: [Reservation], database: Database) async throws -> String? {
        struct Refused: Error { var id: String }
        if reservations.count == 1, let item = reservations.first {
            let reserved = try await database.run { sql in try await reserve(item, on: sql) }
            return reserved ? nil : item.budgetId
        }
        do {
            try await database.transaction { sql in
                for item in reservations.sorted(by: { $0.budgetId < $1.budgetId }) {
                    if try await !reserve(item, on: sql) { throw Refused(id: item.budgetId) }
                }
            }
            return nil
        } catch let refused as Refused {
            return refused.id
        }
    }

    /// True when the budget had room (or a new period began) and now holds the reservation.
    private static func reserve(_ item: Reservation, on sql: any SQLDatabase) async throws -> Bool {
        let ps = item.periodStart
        return try await sql.raw("""
            UPDATE budgets SET \
            spent_cost = CASE WHEN period_start < \(bind: ps) THEN 0 ELSE spent_cost END, \
            spent_tokens = CASE WHEN period_start < \(bind: ps) THEN 0 ELSE spent_tokens END, \
            reserved_cost = CASE WHEN period_start < \(bind: ps) THEN 0 ELSE reserved_cost END + \(bind: item.cost), \
            reserved_tokens = CASE WHEN period_start < \(bind: ps) THEN 0 ELSE reserved_tokens END + \(bind: Int64(item.tokens)), \
            period_start = CASE WHEN period_start < \(bind: ps) THEN \(bind: ps) ELSE period_start END \
            WHERE id = \(bind: item.budgetId) AND (period_start < \(bind: ps) OR ( \
            (max_cost IS NULL OR spent_cost + reserved_cost < max_cost) AND \
            (max_tokens IS NULL OR spent_tokens + reserved_tokens < max_tokens))) \
            RETURNING id
            """).first() != nil
    }

    /// Replaces reservations with what the call really cost; budgets crossing their soft threshold
    /// for the first time this period are returned (and marked) so the caller audits them once.
    ///
    /// One statement per budget, which also says whether a crossing is still to be recorded; only
    /// then a transaction marks the budget (guarded, so one instance wins) and writes the audit row.
    package static func settle(_ reservations: [Reservation], cost: Double, tokens: Int, database: Database) async throws -> [(id: String, userId: String?)] {
        var crossed: [(id: String, userId: String?)] = []
        for item in reservations.sorted(by: { $0.budgetId < $1.budgetId }) {
            let ps = item.periodStart
            let crossing = try await database.run { sql in
                try await sql.raw("""
                    UPDATE budgets SET spent_cost = spent_cost + \(bind: cost), spent_tokens = spent_tokens + \(bind: Int64(tokens)), \
                    reserved_cost = CASE WHEN period_start <> \(bind: ps) THEN reserved_cost \
                    WHEN reserved_cost > \(bind: item.cost) THEN reserved_cost - \(bind: item.cost) ELSE 0 END, \
                    reserved_tokens = CASE WHEN period_start <> \(bind: ps) THEN reserved_tokens \
                    WHEN reserved_tokens > \(bind: Int64(item.tokens)) THEN reserved_tokens - \(bind: Int64(item.tokens)) ELSE 0 END \
                    WHERE id = \(bind: item.budgetId) \
                    RETURNING \(unsafeRaw: crossingExpression) AS crossing
                    """).first()?.decode(column: "crossing", as: Bool?.self) ?? false
            }
            guard crossing, let userId = try await markSoftThreshold(budgetId: item.budgetId, database: database) else { continue }
            crossed.append((item.budgetId, userId))
        }
        return crossed
    }

    /// True on a budget row whose spending has reached its soft threshold and whose crossing is not
    /// yet recorded for this period (a constant SQL fragment, read from the row being updated).
    package static let crossingExpression = """
        (soft_period IS NULL OR soft_period <> period_start) AND ( \
        (max_cost IS NOT NULL AND spent_cost >= max_cost * soft_threshold) OR \
        (max_tokens IS NOT NULL AND spent_tokens >= max_tokens * soft_threshold))
        """

    /// Records a crossing once per period: the mark is guarded, so of several instances settling at
    /// once only one writes the audit row. The budget's owner when this call recorded it, else nil.
    package static func markSoftThreshold(budgetId: String, database: Database) async throws -> String?? {
        try await database.transaction { sql -> String?? in
            let row = try await sql.raw("""
                UPDATE budgets SET soft_period = period_start, soft_reached_at = \(bind: Clock.nowMillis()) \
                WHERE id = \(bind: budgetId) AND \(unsafeRaw: crossingExpression) \
                RETURNING id, user_id
                """).first()
            guard let row else { return nil }
            let userId = try row.decode(column: "user_id", as: String?.self)
            try await AuditLog.write(
                .budgetThreshold, actor: .traffic, subject: .init(keyId: nil, owner: userId, provider: nil), result: "reached",
                detail: "budget \(budgetId) crossed its soft threshold", on: sql)
            try await WebhookRows.enqueueBudgetThreshold(budgetId: budgetId, on: sql)
            return .some(userId)
        }
    }

    // MARK: CRUD

    package struct Fields: Sendable {
        package var userId: String?
        package var tokenId: String?
        package var teamId: String?
        package var period: Budget.Period
        package var maxCost: Double?
        package var maxTokens: Int?
        package var softThreshold: Double

        package init(
            userId: String? = nil, tokenId: String? = nil, teamId: String? = nil, period: Budget.Period, maxCost: Double? = nil, maxTokens: Int? = nil,
            softThreshold: Double
        ) {
            self.userId = userId
            self.tokenId = tokenId
            self.teamId = teamId
            self.period = period
            self.maxCost = maxCost
            self.maxTokens = maxTokens
            self.softThreshold = softThreshold
        }
    }

    package static func insert(_ fields: Fields, database: Database) async throws -> Budget {
        let id = RandomIdentifier.uuid()
        let now = Clock.nowMillis()
        return try await database.transaction { sql in
            try await sql.insert(into: "budgets")
                .columns(
                    "id", "user_id", "token_id", "team_id", "period", "max_cost", "max_tokens", "soft_threshold", "period_start", "created_at", "updated_at"
                )
                .values(
                    SQLBind(id), SQLBind(fields.userId), SQLBind(fields.tokenId), SQLBind(fields.teamId), SQLBind(fields.period.rawValue), SQLBind(fields.maxCost),
                    SQLBind(fields.maxTokens.map(Int64.init)), SQLBind(fields.softThreshold), SQLBind(fields.period.start(at: now)), SQLBind(now),
                    SQLBind(now)
                )
                .run()
            try await ChangeFeed.bump(changeCounter, on: sql)
            return try await find(id: id, on: sql)!
        }
    }

    package static func update(id: String, _ fields: Fields, database: Database) async throws -> Budget? {
        try await database.transaction { sql in
            guard try await find(id: id, on: sql) != nil else { return nil }
            try await sql.update("budgets").where("id", .equal, SQLBind(id))
                .set("period", to: SQLBind(fields.period.rawValue))
                .set("max_cost", to: SQLBind(fields.maxCost))
                .set("max_tokens", to: SQLBind(fields.maxTokens.map(Int64.init)))
                .set("soft_threshold", to: SQLBind(fields.softThreshold))
                // A changed budget can be used up again this period: its next refusal alerts again (`budget.exceeded`).
                .set("exceeded_period", to: SQLLiteral.null)
                .set("updated_at", to: SQLBind(Clock.nowMillis()))
                .run()
            try await ChangeFeed.bump(changeCounter, on: sql)
            return try await find(id: id, on: sql)
        }
    }

    package static func delete(id: String, database: Database) async throws -> Bool {
        try await database.transaction { sql in
            guard try await find(id: id, on: sql) != nil else { return false }
            try await sql.raw("DELETE FROM budgets WHERE id = \(bind: id)").run()
            try await ChangeFeed.bump(changeCounter, on: sql)
            return true
        }
    }

    package static func find(id: String, on sql: any SQLDatabase) async throws -> Budget? {
        try await sql.raw("SELECT budgets.*, \(unsafeRaw: leasedColumns) FROM budgets WHERE id = \(bind: id)").first().map {
            try Budget(row: $0, now: Clock.nowMillis())
        }
    }

    /// Headroom the instances hold on leases of the row's current period (part of `reserved_cost`
    /// and `reserved_tokens`, which the API shows without it: `reserved` is what calls in flight hold).
    package static let leasedColumns = """
        (SELECT COALESCE(SUM(l.cost), 0.0) FROM budget_leases l WHERE l.budget_id = budgets.id AND l.period_start = budgets.period_start) \
        AS leased_cost, \
        (SELECT CAST(COALESCE(SUM(l.tokens), 0) AS BIGINT) FROM budget_leases l WHERE l.budget_id = budgets.id \
        AND l.period_start = budgets.period_start) AS leased_tokens
        """

    /// Every budget, or those of one user / one token, or of the teams in `teamIds`; at most 10,000 rows.
    package static func list(
        userId: String?, tokenId: String?, either: Bool = false, teamIds: [String]? = nil, database: Database
    ) async throws -> [Budget] {
        try await database.run { sql in
            var query = sql.select().column(SQLLiteral.all).column(SQLRaw(leasedColumns)).from("budgets")
            if either, let userId, let tokenId {
                query = query.where(group: { $0.where("user_id", .equal, SQLBind(userId)).orWhere("token_id", .equal, SQLBind(tokenId)) })
            } else {
                if let userId { query = query.where("user_id", .equal, SQLBind(userId)) }
                if let tokenId { query = query.where("token_id", .equal, SQLBind(tokenId)) }
            }
            if let teamIds { query = query.where("team_id", .in, SQLBind.group(teamIds)) }
            let now = Clock.nowMillis()
            return try await query.orderBy("created_at").limit(10_000).all().map { try Budget(row: $0, now: now) }
        }
    }
}

extension AuditLog.Actor {
    /// Traffic control acting on its own (budget thresholds, keys a provider rejected).
    package static let traffic = AuditLog.Actor(tokenId: nil, role: "system")
}
