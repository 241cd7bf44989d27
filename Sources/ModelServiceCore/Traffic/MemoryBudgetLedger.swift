import Foundation
import Logging
import SQLKit
import Synchronization

/// The budget ledger of a single instance (SQLite): reserve and settle are a lock and a few
/// additions in memory, so a budgeted call touches no database on its path.
///
/// Loaded from the `budgets` rows at start and on every budget change; what calls spent is
/// written back in batches (``flush()``, run by ``BudgetBook``'s service loop and at shutdown).
/// A soft-threshold crossing is marked here at once (so it is recorded once per period) and
/// audited off the path.
package final class MemoryBudgetLedger: BudgetLedger {
    package struct Entry: Sendable {
        package var limits: BudgetBook.Limits
        package var periodStart: Int64
        package var spentCost = 0.0
        package var spentTokens = 0
        package var reservedCost = 0.0
        package var reservedTokens = 0
        package var softPeriod: Int64?
        package var softReachedAt: Int64?

        /// Starts the period holding `time` when the stored one has ended.
        package mutating func roll(to start: Int64) {
            guard periodStart < start else { return }
            periodStart = start
            (spentCost, spentTokens, reservedCost, reservedTokens) = (0, 0, 0, 0)
        }

        package var hasRoom: Bool {
            (limits.maxCost.map { spentCost + reservedCost < $0 } ?? true) && (limits.maxTokens.map { spentTokens + reservedTokens < $0 } ?? true)
        }

        package var crossedSoftThreshold: Bool {
            (limits.maxCost.map { spentCost >= $0 * limits.softThreshold } ?? false)
                || (limits.maxTokens.map { Double(spentTokens) >= Double($0) * limits.softThreshold } ?? false)
        }
    }

    private struct State {
        package var entries: [String: Entry] = [:]
        /// Budgets whose spending changed since the last flush.
        package var dirty: Set<String> = []
        /// Late charges for budgets whose rows exist but are not loaded here yet, added when they load;
        /// `at` is when the charge was made, so a load read later without the budget drops it (deleted).
        package var owed: [String: (cost: Double, tokens: Int, at: Int64)] = [:]
    }

    private let state = Mutex(State())
    private let database: Database
    private let logger: Logger

    package init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    package var flushInterval: Duration { .seconds(1) }
    package var statements: Int { 0 }

    package func budgetsChanged(_ budgets: [Budget], now: Int64) {
        load(budgets, now: now)
    }

    package func reserve(_ budgets: [BudgetBook.Limits], _ reservations: inout [BudgetRows.Reservation], now: Int64) async throws -> String? {
        reserve(reservations)
    }

    /// Settles in memory; a soft-threshold crossing is audited off the path.
    package func settle(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) -> [BudgetRows.Reservation] {
        let crossed = settle(reservations, cost: cost, tokens: tokens, now: Clock.nowMillis())
        guard !crossed.isEmpty else { return [] }
        Task { [database, logger] in
            do {
                try await database.transaction { sql in
                    for budget in crossed {
                        try await AuditLog.write(
                            .budgetThreshold, actor: .traffic, subject: .init(keyId: nil, owner: budget.userId, provider: nil), result: "reached",
                            detail: "budget \(budget.id) crossed its soft threshold", on: sql)
                        try await WebhookRows.enqueueBudgetThreshold(budgetId: budget.id, on: sql)
                    }
                }
            } catch {
                logger.error("auditing a budget threshold failed", metadata: ["error": "\(Database.describe(error))"])
            }
        }
        return []
    }

    package func settleInRows(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) async {}

    /// Spending is counted in memory: charged once the batch committed (a rollback charges nothing).
    package func chargeLate(_ owed: [LateBudgetCharges.Owed], on sql: any SQLDatabase) async throws -> (@Sendable () -> Void)? {
        { self.chargeLate(owed, now: Clock.nowMillis()) }
    }

    /// Adds late charges to the budgets loaded here (auditing a soft-threshold crossing as a settlement
    /// does); a budget whose row is newer than this instance's last load is owed until it loads.
    package func chargeLate(_ owed: [LateBudgetCharges.Owed], now: Int64) {
        let loaded = state.withLock { state in
            owed.filter { item in
                guard state.entries[item.budgetId] == nil else { return true }
                let before = state.owed[item.budgetId] ?? (0, 0, now)
                state.owed[item.budgetId] = (before.cost + item.cost, Saturating.add(before.tokens, item.tokens), now)
                return false
            }
        }
        add(loaded)
    }

    /// Adds late charges to loaded budgets through `settle`, which audits a soft threshold one of them crosses.
    private func add(_ charges: [LateBudgetCharges.Owed]) {
        for item in charges {
            let charge = BudgetRows.Reservation(budgetId: item.budgetId, periodStart: 0, cost: 0, tokens: 0)
            _ = settle([charge], cost: item.cost, tokens: item.tokens)
        }
    }

    /// Late charges waiting for their budget to load (for tests).
    package var owedBudgets: Set<String> { state.withLock { Set($0.owed.keys) } }

    package func current(_ budget: Budget) -> Budget {
        overlay(budget, now: Clock.nowMillis())
    }

    package func flush() async {
        do {
            try await flush(on: database)
        } catch {
            logger.warning("writing budget spending failed; retried at the next flush", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    package func finish() async {
        await flush()
    }

    package func housekeeping() async {}

    /// Installs the rows read from the database, keeping what this instance counted meanwhile
    /// (memory is ahead of the rows until the next flush), then adds the late charges held for budgets
    /// that loaded now, as a settlement does: a soft threshold one of them crosses is audited.
    package func load(_ budgets: [Budget], now: Int64) {
        add(install(budgets, now: now))
    }

    /// Replaces the entries with `budgets`' rows; returns the held late charges whose budget is now among them.
    private func install(_ budgets: [Budget], now: Int64) -> [LateBudgetCharges.Owed] {
        state.withLock { state in
            var fresh: [String: Entry] = [:]
            for budget in budgets {
                let limits = BudgetBook.Limits(budget)
                if var kept = state.entries[budget.id] {
                    kept.limits = limits
                    fresh[budget.id] = kept
                    continue
                }
                // A budget's answer is already read in its current period.
                var entry = Entry(limits: limits, periodStart: budget.period.start(at: now))
                entry.spentCost = budget.spent
                entry.spentTokens = budget.spentTokens
                if let reached = budget.softThresholdReachedAt {
                    entry.softPeriod = entry.periodStart
                    entry.softReachedAt = Clock.parseISO8601(reached).map(Clock.millis(from:)) ?? now
                }
                fresh[budget.id] = entry
            }
            var loaded: [LateBudgetCharges.Owed] = []
            for (id, charge) in state.owed {
                if fresh[id] != nil {
                    loaded.append(LateBudgetCharges.Owed(budgetId: id, cost: charge.cost, tokens: charge.tokens))
                    state.owed[id] = nil
                } else if now > charge.at {
                    // These rows were read after the charge and the budget is not among them: it was deleted.
                    state.owed[id] = nil
                }
            }
            state.entries = fresh
            state.dirty = state.dirty.filter { fresh[$0] != nil }
            return loaded
        }
    }

    /// Reserves on every budget or on none; the id of the first without room.
    package func reserve(_ reservations: [BudgetRows.Reservation]) -> String? {
        state.withLock { state in
            for item in reservations {
                guard var entry = state.entries[item.budgetId] else { continue }
                entry.roll(to: item.periodStart)
                state.entries[item.budgetId] = entry
                if !entry.hasRoom { return item.budgetId }
            }
            for item in reservations {
                state.entries[item.budgetId]?.reservedCost += item.cost
                state.entries[item.budgetId]?.reservedTokens += item.tokens
            }
            return nil
        }
    }

    /// Replaces the reservations with the real spending; the budgets that crossed their soft
    /// threshold for the first time this period (with their owner), to audit.
    package func settle(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int, now: Int64) -> [(id: String, userId: String?)] {
        state.withLock { state in
            var crossed: [(id: String, userId: String?)] = []
            for item in reservations {
                guard var entry = state.entries[item.budgetId] else { continue }
                if entry.periodStart == item.periodStart {
                    entry.reservedCost = max(0, entry.reservedCost - item.cost)
                    entry.reservedTokens = max(0, entry.reservedTokens - item.tokens)
                }
                entry.spentCost += cost
                entry.spentTokens = Saturating.add(entry.spentTokens, tokens)
                if entry.softPeriod != entry.periodStart, entry.crossedSoftThreshold {
                    entry.softPeriod = entry.periodStart
                    entry.softReachedAt = now
                    crossed.append((item.budgetId, entry.limits.userId))
                }
                state.entries[item.budgetId] = entry
                state.dirty.insert(item.budgetId)
            }
            return crossed
        }
    }

    /// `budget` with this instance's live figures (the row lags until the next flush).
    package func overlay(_ budget: Budget, now: Int64) -> Budget {
        guard var entry = state.withLock({ $0.entries[budget.id] }) else { return budget }
        entry.roll(to: budget.period.start(at: now))
        var budget = budget
        budget.spent = entry.spentCost
        budget.spentTokens = entry.spentTokens
        budget.reserved = entry.reservedCost
        budget.reservedTokens = entry.reservedTokens
        budget.remaining = budget.maxCost.map { max(0, $0 - entry.spentCost) }
        budget.remainingTokens = budget.maxTokens.map { max(0, $0 - entry.spentTokens) }
        budget.softThresholdReachedAt = entry.softPeriod == entry.periodStart ? entry.softReachedAt.map(Clock.iso8601(millis:)) : nil
        return budget
    }

    /// Writes the spending of every changed budget in one transaction; a failed write is retried next time.
    package func flush(on database: Database) async throws {
        let changed: [(String, Entry)] = state.withLock { state in
            defer { state.dirty.removeAll() }
            return state.dirty.compactMap { id in state.entries[id].map { (id, $0) } }
        }
        guard !changed.isEmpty else { return }
        do {
            try await database.transaction { sql in
                for (id, entry) in changed.sorted(by: { $0.0 < $1.0 }) {
                    try await sql.update("budgets").where("id", .equal, SQLBind(id))
                        .set("spent_cost", to: SQLBind(entry.spentCost))
                        .set("spent_tokens", to: SQLBind(Int64(entry.spentTokens)))
                        .set("period_start", to: SQLBind(entry.periodStart))
                        .set("soft_period", to: SQLBind(entry.softPeriod))
                        .set("soft_reached_at", to: SQLBind(entry.softReachedAt))
                        .run()
                }
            }
        } catch {
            state.withLock { state in for (id, _) in changed where state.entries[id] != nil { state.dirty.insert(id) } }
            throw error
        }
    }
}
