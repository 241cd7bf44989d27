import Logging
import Synchronization

/// Budget headroom this instance leases from the shared rows (PostgreSQL), so that a budgeted call
/// is admitted and settled in memory instead of with a statement each.
///
/// A lease is part of the budget's room moved into the row's `reserved` (at most an eighth of the
/// room, at most 256 calls' estimates). A call is admitted on the lease only when its whole estimate
/// fits in what the lease has left, so leased calls never spend past the lease; a call that does
/// not fit reserves in the row directly (``BudgetRows/reserve(_:database:)``), where the
/// "budget plus one call" bound is kept. Leases are only taken while the room is worth at least 32
/// calls: near the end of a budget every call goes to the row, exactly as without leases.
///
/// What leased calls spend is written in batches (``flush(at:)``); headroom a lease no longer needs
/// (idle, budget edited, shutdown) is handed back. A crashed instance's leases are handed back by
/// the others (``BudgetLeaseRows/reclaimAbandoned(on:)``) once its heartbeat row is gone.
package final class BudgetLeases: Sendable {
    private typealias Amount = BudgetLeaseRows.Amount

    /// One lease: a budget in one period (a new period starts with no lease), and the generation of
    /// the budget's limits (an edited budget starts a new lease; the old one drains apart).
    package struct Key: Hashable, Sendable {
        package var budgetId: String
        package var periodStart: Int64
        package var generation: Int
    }

    private struct Lease {
        package var maxCost: Double?
        package var maxTokens: Int?
        /// Held in the row's `reserved` for this lease.
        package var granted = Amount()
        /// Estimates of calls admitted on the lease and not yet settled.
        package var pending = Amount()
        /// What settled calls spent and is not written yet.
        package var unwritten = Amount()
        /// Spending a flush is writing now (moved out of `unwritten`, so two flushes never write it twice).
        package var writing = Amount()
        /// The lease statement in flight: callers short of headroom wait for it.
        package var taking: Task<Void, Never>?
        /// The row had too little room for a lease: calls go to the row directly until then.
        package var declinedUntil: Int64 = 0
        package var lastGrant = Amount()
        package var lastUsed: Int64
        /// The budget was edited or deleted: no new calls; dropped once settled, written and handed back.
        package var retired = false

        /// What is left for calls after those in flight and those settled.
        package var free: Amount {
            Amount(
                cost: max(0, granted.cost - pending.cost - unwritten.cost - writing.cost),
                tokens: max(0, granted.tokens - pending.tokens - unwritten.tokens - writing.tokens))
        }

        package func fits(_ estimate: Amount) -> Bool {
            guard !retired else { return false }
            let left = free
            return (maxCost == nil || estimate.cost <= left.cost) && (maxTokens == nil || estimate.tokens <= left.tokens)
        }

        /// Taken ahead while a quarter of the last grant is left, so calls do not wait for it.
        package var runningLow: Bool {
            let left = free
            return (maxCost != nil && left.cost * 4 <= lastGrant.cost) || (maxTokens != nil && left.tokens * 4 <= lastGrant.tokens)
        }
    }

    /// Calls' estimates a lease asks for, and the least worth holding.
    package static let callsPerLease = 256.0
    package static let leastCallsPerLease = 4.0
    /// After a lease is declined, calls go to the row for this long before asking again.
    package static let declinedMillis: Int64 = 2_000
    /// A lease unused for this long hands its free headroom back.
    package static let idleMillis: Int64 = 3_000

    package let database: Database
    package let instanceId: String
    private let logger: Logger
    private let leases = Mutex<(current: [Key: Lease], generations: [String: Int])>(([:], [:]))
    private let statementCount = Atomic<Int>(0)

    package init(database: Database, instanceId: String, logger: Logger) {
        self.database = database
        self.instanceId = instanceId
        self.logger = logger
    }

    /// Lease statements run so far (take, write and release; each one round-trip).
    package var statements: Int { statementCount.load(ordering: .relaxed) }

    /// Admits the call on this instance's lease of `budget` when its estimate fits, taking or topping
    /// up the lease first when the room is worth it: the lease the call holds, or nil when the call
    /// must reserve in the row instead.
    package func admit(_ budget: BudgetBook.Limits, periodStart: Int64, cost: Double, tokens: Int, now: Int64) async -> Key? {
        enum Step {
            case admitted(Key)
            case inRow
            case wait(Task<Void, Never>)
            case writeFirst
        }
        let estimate = Amount(cost: cost, tokens: tokens)
        var waited = false
        var wrote = false
        while true {
            let step: Step = leases.withLock { state in
                let key = Key(budgetId: budget.id, periodStart: periodStart, generation: state.generations[budget.id] ?? 0)
                var lease = state.current[key] ?? Lease(maxCost: budget.maxCost, maxTokens: budget.maxTokens, lastUsed: now)
                defer { state.current[key] = lease }
                if lease.fits(estimate) {
                    lease.pending += estimate
                    lease.lastUsed = now
                    if lease.taking == nil, lease.runningLow, lease.declinedUntil <= now {
                        lease.taking = take(key, estimate: estimate, now: now)
                    }
                    return .admitted(key)
                }
                // Spending not in the row yet (a call that spent past its estimate used the lease up):
                // the row must know it before it grants more headroom or reserves for this call.
                if !wrote, !lease.unwritten.isZero || !lease.writing.isZero { return .writeFirst }
                if waited { return .inRow }
                if let taking = lease.taking { return .wait(taking) }
                if lease.declinedUntil > now { return .inRow }
                let taking = take(key, estimate: estimate, now: now)
                lease.taking = taking
                return .wait(taking)
            }
            switch step {
            case .admitted(let key): return key
            case .inRow: return nil
            case .wait(let taking):
                waited = true
                await taking.value
            case .writeFirst:
                wrote = true
                await flush(at: now)
            }
        }
    }

    /// Settles a call admitted on `key`: its estimate leaves `pending`, what it spent waits to be written.
    package func settle(_ key: Key, estimate: (cost: Double, tokens: Int), cost: Double, tokens: Int) {
        leases.withLock { state in
            guard var lease = state.current[key] else { return }
            lease.pending.cost = max(0, lease.pending.cost - estimate.cost)
            lease.pending.tokens = max(0, lease.pending.tokens - estimate.tokens)
            lease.unwritten += Amount(cost: cost, tokens: tokens)
            state.current[key] = lease
        }
    }

    /// Takes a lease in the background; the caller stores the task so others wait for it.
    private func take(_ key: Key, estimate: Amount, now: Int64) -> Task<Void, Never> {
        let want = Amount(cost: estimate.cost * Self.callsPerLease, tokens: Int(Double(estimate.tokens) * Self.callsPerLease))
        let least = Amount(cost: estimate.cost * Self.leastCallsPerLease, tokens: Int(Double(estimate.tokens) * Self.leastCallsPerLease))
        return Task {
            let granted: Amount?
            do {
                granted = try await database.run { sql in
                    try await BudgetLeaseRows.take(
                        budgetId: key.budgetId, periodStart: key.periodStart, want: want, least: least, instanceId: self.instanceId, at: now, on: sql)
                }
                statementCount.add(1, ordering: .relaxed)
            } catch {
                logger.warning("leasing budget headroom failed; calls reserve in the row", metadata: ["error": "\(Database.describe(error))"])
                granted = nil
            }
            leases.withLock { state in
                guard var lease = state.current[key] else { return }
                lease.taking = nil
                if let granted, !granted.isZero {
                    lease.granted += granted
                    lease.lastGrant = granted
                } else {
                    lease.declinedUntil = now + Self.declinedMillis
                }
                state.current[key] = lease
            }
        }
    }

    /// Writes what leased calls spent, and hands back the headroom of leases idle, retired or of an
    /// ended period. Returns the budgets whose soft threshold was crossed and recorded by this write.
    @discardableResult
    package func flush(at now: Int64, releasingAll: Bool = false) async -> [(id: String, userId: String?)] {
        struct Work {
            package var key: Key
            package var spent: Amount
            package var consumed: Amount
            package var release: Amount
        }
        // Headroom being handed back leaves the lease at once, so no call is admitted on it meanwhile.
        let work: [Work] = leases.withLock { state in
            var work: [Work] = []
            for (key, var lease) in state.current {
                let consumed = Amount(cost: min(lease.unwritten.cost, lease.granted.cost), tokens: min(lease.unwritten.tokens, lease.granted.tokens))
                let idle = releasingAll || lease.retired || now - lease.lastUsed >= Self.idleMillis
                let release = idle && lease.taking == nil ? lease.free : Amount()
                guard !lease.unwritten.isZero || !release.isZero else { continue }
                lease.granted -= release
                work.append(Work(key: key, spent: lease.unwritten, consumed: consumed, release: release))
                lease.writing += lease.unwritten
                lease.unwritten = Amount()
                state.current[key] = lease
            }
            return work
        }
        var crossed: [(id: String, userId: String?)] = []
        for item in work {
            var held = true
            if !item.spent.isZero {
                do {
                    let outcome = try await database.run { sql in
                        try await BudgetLeaseRows.write(
                            budgetId: item.key.budgetId, periodStart: item.key.periodStart, spent: item.spent, consumed: item.consumed,
                            instanceId: self.instanceId, on: sql)
                    }
                    statementCount.add(1, ordering: .relaxed)
                    held = outcome.held
                    written(item.spent, consumed: item.consumed, held: held, key: item.key)
                    if outcome.crossing, let userId = try? await BudgetRows.markSoftThreshold(budgetId: item.key.budgetId, database: database) {
                        crossed.append((item.key.budgetId, userId))
                    }
                } catch {
                    // Not written: the spending waits for the next flush, the headroom stays the lease's.
                    notWritten(item.spent, release: item.release, key: item.key)
                    logger.warning("writing leased budget spending failed; retried at the next flush", metadata: ["error": "\(Database.describe(error))"])
                    continue
                }
            }
            guard held, !item.release.isZero else { continue }
            do {
                try await database.run { sql in
                    try await BudgetLeaseRows.release(
                        budgetId: item.key.budgetId, periodStart: item.key.periodStart, free: item.release, instanceId: self.instanceId, on: sql)
                }
                statementCount.add(1, ordering: .relaxed)
            } catch {
                notWritten(Amount(), release: item.release, key: item.key)
                logger.warning("handing back leased budget headroom failed; retried at the next flush", metadata: ["error": "\(Database.describe(error))"])
            }
        }
        drop(at: now)
        return crossed
    }

    /// A write landed: the spending is in the row, and the part of the lease it used left `reserved`.
    private func written(_ spent: Amount, consumed: Amount, held: Bool, key: Key) {
        leases.withLock { state in
            guard var lease = state.current[key] else { return }
            lease.writing -= spent
            if held {
                lease.granted.cost = max(0, lease.granted.cost - consumed.cost)
                lease.granted.tokens = max(0, lease.granted.tokens - consumed.tokens)
            } else {
                // Handed back by another instance (this one was thought gone): nothing is held any more.
                lease.granted = Amount()
            }
            state.current[key] = lease
        }
    }

    /// A statement failed: the spending goes back to `unwritten` and the headroom not handed back is
    /// the lease's again (it is still in the row's `reserved`).
    private func notWritten(_ spent: Amount, release: Amount, key: Key) {
        leases.withLock { state in
            guard var lease = state.current[key] else { return }
            lease.writing -= spent
            lease.unwritten += spent
            lease.granted += release
            state.current[key] = lease
        }
    }

    /// Forgets leases with nothing held, in flight or unwritten that are idle, retired or of an ended period.
    private func drop(at now: Int64) {
        leases.withLock { state in
            state.current = state.current.filter { _, lease in
                let empty = lease.granted.isZero && lease.pending.isZero && lease.unwritten.isZero && lease.writing.isZero && lease.taking == nil
                return !(empty && (lease.retired || now - lease.lastUsed >= Self.idleMillis))
            }
        }
    }

    /// Applies edited budgets: a lease whose budget changed or went away takes no new calls and is
    /// handed back at the next flush; the budget's next calls take a new lease under the new maximum.
    package func budgetsChanged(_ current: [String: BudgetBook.Limits]) {
        leases.withLock { state in
            for (key, lease) in state.current where !lease.retired {
                let limits = current[key.budgetId]
                guard limits == nil || limits?.maxCost != lease.maxCost || limits?.maxTokens != lease.maxTokens else { continue }
                state.current[key]!.retired = true
                state.generations[key.budgetId] = max(state.generations[key.budgetId] ?? 0, key.generation + 1)
            }
        }
    }

    /// What this instance's settled calls spent on a budget and is not in its row yet.
    package func unwritten(budgetId: String) -> (cost: Double, tokens: Int) {
        leases.withLock { state in
            state.current.filter { $0.key.budgetId == budgetId }.values.reduce((0.0, 0)) { ($0.0 + $1.unwritten.cost, $0.1 + $1.unwritten.tokens) }
        }
    }
}
