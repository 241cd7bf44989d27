import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Which budgets apply to a call, from memory, and where their reservations go: this instance's
/// memory on SQLite (``BudgetMemoryLedger``, written back in batches), the shared rows on
/// PostgreSQL (``BudgetLedger``'s atomic statements, so every instance holds one budget).
///
/// The index is reloaded when the `budgets` change counter moves, so a call with no budget costs
/// one dictionary lookup and no database round-trip.
public final class BudgetBook: Service, Sendable {
    package struct Limits: Sendable {
        package var id: String
        package var period: Budget.Period
        package var label: String
        package var userId: String?
        package var maxCost: Double?
        package var maxTokens: Int?
        package var softThreshold: Double

        package init(_ budget: Budget) {
            id = budget.id
            period = budget.period
            label = budget.label
            userId = budget.userId
            maxCost = budget.maxCost
            maxTokens = budget.maxTokens
            softThreshold = budget.softThreshold
        }
    }

    private struct Index {
        package var byUser: [String: [Limits]] = [:]
        package var byToken: [String: [Limits]] = [:]
    }

    package let database: Database
    /// Single instance (SQLite): the ledger lives here; nil on PostgreSQL.
    package let memory: BudgetMemoryLedger?
    /// Shared rows (PostgreSQL): headroom this instance leases, so most calls need no statement.
    package let leases: BudgetLeases?
    private let logger: Logger
    private let flushInterval: Duration
    private let index = Mutex(Index())
    private let reloads = Mutex<(started: Int, installed: Int)>((0, 0))

    /// `instanceId` names this instance's leases (its heartbeat row, ``TrafficInstances``).
    package init(database: Database, instanceId: String, logger: Logger, flushInterval: Duration? = nil) {
        self.database = database
        self.logger = logger
        let shared = database.dialect == .postgres
        self.flushInterval = flushInterval ?? (shared ? .milliseconds(200) : .seconds(1))
        memory = shared ? nil : BudgetMemoryLedger()
        leases = shared ? BudgetLeases(database: database, instanceId: instanceId, logger: logger) : nil
    }

    /// A user's budgets as the API shows them (this instance's live figures included).
    public func list(userId: String) async throws -> [Budget] {
        try await BudgetLedger.list(userId: userId, tokenId: nil, database: database).map(current)
    }

    /// Lease statements this instance ran (take, write, hand back); 0 on SQLite. For the benchmarks.
    public var leaseStatements: Int { leases?.statements ?? 0 }

    public func reload() async throws {
        let ticket = reloads.withLock { $0.started += 1; return $0.started }
        let now = Clock.nowMillis()
        let budgets = try await BudgetLedger.list(userId: nil, tokenId: nil, database: database)
        var fresh = Index()
        for budget in budgets {
            let limits = Limits(budget)
            if let userId = budget.userId { fresh.byUser[userId, default: []].append(limits) }
            if let tokenId = budget.tokenId { fresh.byToken[tokenId, default: []].append(limits) }
        }
        // An earlier reload finishing later holds older rows: only the newest is installed.
        reloads.withLock { reloads in
            guard ticket > reloads.installed else { return }
            reloads.installed = ticket
            memory?.load(budgets, now: now)
            leases?.budgetsChanged(Dictionary(budgets.map { ($0.id, Limits($0)) }) { first, _ in first })
            index.withLock { $0 = fresh }
        }
    }

    /// Creates a budget (validated by the caller) and makes it apply at once on this instance.
    public func create(
        userId: String?, tokenId: String?, period: Budget.Period, maxCost: Double?, maxTokens: Int?, softThreshold: Double = 0.8
    ) async throws -> Budget {
        let fields = BudgetLedger.Fields(
            userId: userId, tokenId: tokenId, period: period, maxCost: maxCost, maxTokens: maxTokens, softThreshold: softThreshold)
        let budget = try await BudgetLedger.insert(fields, database: database)
        try await reload()
        return budget
    }

    package func budgets(userId: String?, tokenId: String) -> [Limits] {
        index.withLock { index in
            (userId.flatMap { index.byUser[$0] } ?? []) + (index.byToken[tokenId] ?? [])
        }
    }

    /// Reserves the estimate on every budget of the call, or throws `budget_exceeded`. On PostgreSQL
    /// a budget whose lease has room for the estimate takes it from the lease; the others reserve in
    /// their rows (one statement).
    package func reserve(_ budgets: [Limits], cost: Double, tokens: Int, now: Int64) async throws(ServiceError) -> [BudgetLedger.Reservation] {
        guard !budgets.isEmpty else { return [] }
        var reservations = budgets.map {
            BudgetLedger.Reservation(budgetId: $0.id, periodStart: $0.period.start(at: now), cost: cost, tokens: tokens)
        }
        let refusedId: String?
        if let memory {
            refusedId = memory.reserve(reservations)
        } else {
            if let leases {
                for index in reservations.indices {
                    reservations[index].lease = await leases.admit(
                        budgets[index], periodStart: reservations[index].periodStart, cost: cost, tokens: tokens, now: now)
                }
            }
            let inRows = reservations.filter { $0.lease == nil }
            do {
                refusedId = inRows.isEmpty ? nil : try await BudgetLedger.reserve(inRows, database: database)
            } catch {
                settleLeased(reservations, cost: 0, tokens: 0)
                logger.warning("budgets cannot be reserved", metadata: ["error": "\(Database.describe(error))"])
                throw ServiceError.refusal(.limitsUnavailable, "Budgets cannot be checked right now; retry shortly.", retryAfterSeconds: 5)
            }
            if refusedId != nil { settleLeased(reservations, cost: 0, tokens: 0) }
        }
        guard let refusedId, let refused = budgets.first(where: { $0.id == refusedId }) else { return reservations }
        let end = refused.period.end(after: refused.period.start(at: now))
        let wait = end.map { Int(($0 - now + 999) / 1000) } ?? 86_400
        let until = end.map { " until the period ends at \(Clock.iso8601(millis: $0))" } ?? "; a total budget does not renew, an admin must raise it"
        throw ServiceError.refusal(.budgetExceeded, "The \(refused.label) is used up\(until).", retryAfterSeconds: wait)
    }

    /// Settles in memory what is held here: the whole ledger on SQLite (a soft-threshold crossing is
    /// audited off the path), the leased reservations on PostgreSQL. Returns the reservations held
    /// in shared rows, to settle with ``settleShared(_:cost:tokens:)``.
    package func settleInMemory(_ reservations: [BudgetLedger.Reservation], cost: Double, tokens: Int) -> [BudgetLedger.Reservation] {
        guard !reservations.isEmpty else { return [] }
        guard let memory else {
            settleLeased(reservations, cost: cost, tokens: tokens)
            return reservations.filter { $0.lease == nil }
        }
        let crossed = memory.settle(reservations, cost: cost, tokens: tokens, now: Clock.nowMillis())
        if !crossed.isEmpty {
            Task { [database, logger] in
                do {
                    try await database.transaction { sql in
                        for budget in crossed {
                            try await AuditLog.write(
                                .budgetThreshold, actor: .traffic, subject: .init(keyId: nil, owner: budget.userId, provider: nil), result: "reached",
                                detail: "budget \(budget.id) crossed its soft threshold", on: sql)
                        }
                    }
                } catch {
                    logger.error("auditing a budget threshold failed", metadata: ["error": "\(Database.describe(error))"])
                }
            }
        }
        return []
    }

    private func settleLeased(_ reservations: [BudgetLedger.Reservation], cost: Double, tokens: Int) {
        guard let leases else { return }
        for item in reservations {
            if let key = item.lease { leases.settle(key, estimate: (item.cost, item.tokens), cost: cost, tokens: tokens) }
        }
    }

    /// Settles the shared rows (PostgreSQL); errors are logged, the reservation then lapses with the period.
    package func settleShared(_ reservations: [BudgetLedger.Reservation], cost: Double, tokens: Int) async {
        do {
            _ = try await BudgetLedger.settle(reservations, cost: cost, tokens: tokens, database: database)
        } catch {
            logger.error("settling a budget failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// A budget as read from its row, with this instance's live figures: the whole ledger when it is
    /// in memory, what leased calls spent and is not written yet on PostgreSQL.
    package func current(_ budget: Budget) -> Budget {
        if let memory { return memory.overlay(budget, now: Clock.nowMillis()) }
        guard let unwritten = leases?.unwritten(budgetId: budget.id), unwritten.cost > 0 || unwritten.tokens > 0 else { return budget }
        var budget = budget
        budget.spent += unwritten.cost
        budget.spentTokens += unwritten.tokens
        budget.remaining = budget.maxCost.map { max(0, $0 - budget.spent) }
        budget.remainingTokens = budget.maxTokens.map { max(0, $0 - budget.spentTokens) }
        return budget
    }

    /// Writes what the in-memory ledger counted since the last flush (SQLite), or what leased calls
    /// spent, handing back idle headroom (PostgreSQL).
    public func flush() async {
        if let leases {
            await leases.flush(at: Clock.nowMillis())
            return
        }
        guard let memory else { return }
        do {
            try await memory.flush(on: database)
        } catch {
            logger.warning("writing budget spending failed; retried at the next flush", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// Hands back the leases of instances that stopped beating without handing them back (crashed).
    package func reclaimAbandonedLeases() async {
        guard leases != nil else { return }
        do {
            let reclaimed = try await database.run { sql in try await BudgetLeaseLedger.reclaimAbandoned(on: sql) }
            if reclaimed > 0 { logger.notice("handed back the budget leases of instances gone", metadata: ["traffic.leases": "\(reclaimed)"]) }
        } catch {
            logger.warning("handing back abandoned budget leases failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// Flushes every `flushInterval` (and hands back abandoned leases every few seconds), then once
    /// more at shutdown, handing back all leased headroom.
    public func run() async throws {
        var lastReclaim = Clock.nowMillis()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.flushInterval) }
            await flush()
            if leases != nil, Clock.nowMillis() - lastReclaim >= 5_000 {
                lastReclaim = Clock.nowMillis()
                await reclaimAbandonedLeases()
            }
        }
        if let leases {
            await leases.flush(at: Clock.nowMillis(), releasingAll: true)
        } else {
            await flush()
        }
    }
}
