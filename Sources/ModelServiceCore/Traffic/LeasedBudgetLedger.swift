import Logging
import SQLKit
import Synchronization

/// The budget ledger of instances sharing PostgreSQL: one row per budget for all of them. A call whose
/// estimate fits in this instance's lease (``BudgetLeases``) is reserved and settled in memory; any other
/// reserves in the row in one atomic statement (``BudgetRows``), which keeps "the budget plus one call"
/// on any number of instances.
package final class LeasedBudgetLedger: BudgetLedger {
    private let database: Database
    private let leases: BudgetLeases
    private let logger: Logger
    /// When the leases of instances gone were last looked for.
    private let lastReclaim = Mutex<Int64>(0)

    package init(database: Database, instanceId: String, logger: Logger) {
        self.database = database
        self.logger = logger
        leases = BudgetLeases(database: database, instanceId: instanceId, logger: logger)
    }

    package var flushInterval: Duration { .milliseconds(200) }
    package var statements: Int { leases.statements }

    package func budgetsChanged(_ budgets: [Budget], now: Int64) {
        leases.budgetsChanged(Dictionary(budgets.map { ($0.id, BudgetBook.Limits($0)) }) { first, _ in first })
    }

    package func reserve(_ budgets: [BudgetBook.Limits], _ reservations: inout [BudgetRows.Reservation], now: Int64) async throws -> String? {
        for index in reservations.indices {
            reservations[index].lease = await leases.admit(
                budgets[index], periodStart: reservations[index].periodStart, cost: reservations[index].cost, tokens: reservations[index].tokens,
                now: now)
        }
        let inRows = reservations.filter { $0.lease == nil }
        let refused: String?
        do {
            refused = inRows.isEmpty ? nil : try await BudgetRows.reserve(inRows, database: database)
        } catch {
            settleLeased(reservations, cost: 0, tokens: 0)
            throw error
        }
        if refused != nil { settleLeased(reservations, cost: 0, tokens: 0) }
        return refused
    }

    package func settle(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) -> [BudgetRows.Reservation] {
        settleLeased(reservations, cost: cost, tokens: tokens)
        return reservations.filter { $0.lease == nil }
    }

    private func settleLeased(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) {
        for item in reservations {
            if let key = item.lease { leases.settle(key, estimate: (item.cost, item.tokens), cost: cost, tokens: tokens) }
        }
    }

    package func settleInRows(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) async {
        do {
            _ = try await BudgetRows.settle(reservations, cost: cost, tokens: tokens, database: database)
        } catch {
            logger.error("settling a budget failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// The rows are charged in the usage batch's transaction: every instance reads them.
    package func chargeLate(_ owed: [LateBudgetCharges.Owed], on sql: any SQLDatabase) async throws -> (@Sendable () -> Void)? {
        let crossed = try await LateBudgetCharges.charge(owed, on: sql)
        guard !crossed.isEmpty else { return nil }
        // Recorded once the charge committed, as a settlement records it (guarded: once per period).
        return { [database, logger] in
            Task {
                for budgetId in crossed {
                    do {
                        _ = try await BudgetRows.markSoftThreshold(budgetId: budgetId, database: database)
                    } catch {
                        logger.error("auditing a budget threshold failed", metadata: ["error": "\(Database.describe(error))"])
                    }
                }
            }
        }
    }

    /// The row with what this instance's leased calls spent and is not written yet.
    package func current(_ budget: Budget) -> Budget {
        let unwritten = leases.unwritten(budgetId: budget.id)
        guard unwritten.cost > 0 || unwritten.tokens > 0 else { return budget }
        var budget = budget
        budget.spent += unwritten.cost
        budget.spentTokens = Saturating.add(budget.spentTokens, unwritten.tokens)
        budget.remaining = budget.maxCost.map { max(0, $0 - budget.spent) }
        budget.remainingTokens = budget.maxTokens.map { max(0, $0 - budget.spentTokens) }
        return budget
    }

    package func flush() async {
        await leases.flush(at: Clock.nowMillis())
    }

    package func finish() async {
        await leases.flush(at: Clock.nowMillis(), releasingAll: true)
    }

    /// Hands back the leases of instances that stopped beating without handing them back (crashed), every few seconds.
    package func housekeeping() async {
        let now = Clock.nowMillis()
        let due = lastReclaim.withLock { last in
            guard now - last >= 5_000 else { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            let reclaimed = try await database.run { sql in try await BudgetLeaseRows.reclaimAbandoned(on: sql) }
            if reclaimed > 0 { logger.notice("handed back the budget leases of instances gone", metadata: ["traffic.leases": "\(reclaimed)"]) }
        } catch {
            logger.warning("handing back abandoned budget leases failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }
}
