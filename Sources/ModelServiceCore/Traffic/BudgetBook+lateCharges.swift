import Foundation
import SQLKit

/// Charges a call to the budgets it did not reserve on: those created after its instance admitted it,
/// or created on another instance it had not heard of yet. So a budget's `spent` is the sum of the
/// usage records that settled since its creation, whichever instance served them.
///
/// Which budgets a batch owes is read from the `budgets` rows in the transaction that writes the
/// records, never from this instance's index: the index lags the rows between a budget's insert and
/// its reload, and a batch written in that gap would otherwise be charged to nothing.
extension BudgetBook: UsageWriteHook {
    package func writing(_ records: [UsageRecord], on sql: any SQLDatabase) async throws -> (@Sendable () -> Void)? {
        let owed = try await LateBudgetCharges.owed(by: records, dialect: database.dialect, on: sql)
        guard !owed.isEmpty else { return nil }
        return try await ledger.chargeLate(owed, on: sql)
    }
}

/// What a batch of usage records owes the budgets it did not reserve on.
package enum LateBudgetCharges {
    /// One budget's share of a batch: the cost and tokens of its records that settled without reserving on it.
    package struct Owed: Sendable, Equatable {
        package var budgetId: String
        package var cost: Double
        package var tokens: Int
    }

    private struct Candidate {
        var id: String
        var userId: String?
        var tokenId: String?
        var teamId: String?
        var createdAt: Int64
        var periodStart: Int64

        func covers(_ record: UsageRecord) -> Bool {
            guard createdAt <= record.at, periodStart <= record.at, !record.budgetIds.contains(id) else { return false }
            return (userId != nil && userId == record.userId) || (tokenId != nil && tokenId == record.tokenId)
                || (teamId != nil && teamId == record.teamId)
        }
    }

    /// One read of the budgets of the batch's users, tokens and teams (three parameters for any
    /// number of records); the sums per budget, in id order, the order every multi-budget
    /// reservation locks in, so charging them never deadlocks with one.
    package static func owed(by records: [UsageRecord], dialect: SQLDialectKind, on sql: any SQLDatabase) async throws -> [Owed] {
        let billed = records.filter { $0.cost > 0 || $0.totalTokens > 0 }
        guard let latest = billed.map(\.at).max() else { return [] }
        let users = Array(Set(billed.compactMap(\.userId))), tokens = Array(Set(billed.compactMap(\.tokenId)))
        let teams = Array(Set(billed.compactMap(\.teamId)))
        let matching: SQLQueryString
        switch dialect {
        case .postgres:
            matching = "(user_id = ANY(\(bind: users)) OR token_id = ANY(\(bind: tokens)) OR team_id = ANY(\(bind: teams)))"
        case .sqlite:
            matching = """
                (user_id IN (SELECT value FROM json_each(\(bind: try jsonArray(users)))) \
                OR token_id IN (SELECT value FROM json_each(\(bind: try jsonArray(tokens)))) \
                OR team_id IN (SELECT value FROM json_each(\(bind: try jsonArray(teams)))))
                """
        }
        let rows = try await sql.raw("""
            SELECT id, user_id, token_id, team_id, created_at, period_start FROM budgets WHERE \(matching) AND created_at <= \(bind: latest)
            """).all()
        guard !rows.isEmpty else { return [] }
        let candidates = try rows.map {
            Candidate(
                id: try $0.decode(column: "id", as: String.self), userId: try $0.decode(column: "user_id", as: String?.self),
                tokenId: try $0.decode(column: "token_id", as: String?.self), teamId: try $0.decode(column: "team_id", as: String?.self),
                createdAt: try $0.decode(column: "created_at", as: Int64.self), periodStart: try $0.decode(column: "period_start", as: Int64.self))
        }
        var sums: [String: Owed] = [:]
        for record in billed {
            for budget in candidates where budget.covers(record) {
                var owed = sums[budget.id] ?? Owed(budgetId: budget.id, cost: 0, tokens: 0)
                owed.cost += record.cost
                owed.tokens = Saturating.add(owed.tokens, record.totalTokens)
                sums[budget.id] = owed
            }
        }
        return sums.values.sorted { $0.budgetId < $1.budgetId }
    }

    /// Charges the rows themselves (PostgreSQL), in the caller's transaction and in id order; returns the
    /// budgets the charge took to their soft threshold with the crossing not yet recorded this period.
    package static func charge(_ owed: [Owed], on sql: any SQLDatabase) async throws -> [String] {
        var crossed: [String] = []
        for item in owed {
            let row = try await sql.raw("""
                UPDATE budgets SET spent_cost = spent_cost + \(bind: item.cost), spent_tokens = spent_tokens + \(bind: Int64(item.tokens)) \
                WHERE id = \(bind: item.budgetId) RETURNING \(unsafeRaw: BudgetRows.crossingExpression) AS crossing
                """).first()
            if try row?.decode(column: "crossing", as: Bool?.self) == true { crossed.append(item.budgetId) }
        }
        return crossed
    }

    private static func jsonArray(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }
}
