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
    struct Limits: Sendable {
        var id: String
        var period: Budget.Period
        var label: String
        var userId: String?
        var maxCost: Double?
        var maxTokens: Int?
        var softThreshold: Double

        init(_ budget: Budget) {
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
        var byUser: [String: [Limits]] = [:]
        var byToken: [String: [Limits]] = [:]
    }

    let database: Database
    /// Single instance (SQLite): the ledger lives here; nil on PostgreSQL.
    let memory: BudgetMemoryLedger?
    private let logger: Logger
    private let flushInterval: Duration
    private let index = Mutex(Index())
    private let reloads = Mutex<(started: Int, installed: Int)>((0, 0))

    init(database: Database, logger: Logger, flushInterval: Duration = .seconds(1)) {
        self.database = database
        self.logger = logger
        self.flushInterval = flushInterval
        memory = database.dialect == .postgres ? nil : BudgetMemoryLedger()
    }

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

    func budgets(userId: String?, tokenId: String) -> [Limits] {
        index.withLock { index in
            (userId.flatMap { index.byUser[$0] } ?? []) + (index.byToken[tokenId] ?? [])
        }
    }

    /// Reserves the estimate on every budget of the call, or throws `budget_exceeded`.
    func reserve(_ budgets: [Limits], cost: Double, tokens: Int, now: Int64) async throws(TrafficError) -> [BudgetLedger.Reservation] {
        guard !budgets.isEmpty else { return [] }
        let reservations = budgets.map {
            BudgetLedger.Reservation(budgetId: $0.id, periodStart: $0.period.start(at: now), cost: cost, tokens: tokens)
        }
        let refusedId: String?
        if let memory {
            refusedId = memory.reserve(reservations)
        } else {
            do {
                refusedId = try await BudgetLedger.reserve(reservations, database: database)
            } catch {
                logger.warning("budgets cannot be reserved", metadata: ["error": "\(Database.describe(error))"])
                throw TrafficError(kind: .limitsUnavailable, message: "Budgets cannot be checked right now; retry shortly.", retryAfterSeconds: 5)
            }
        }
        guard let refusedId, let refused = budgets.first(where: { $0.id == refusedId }) else { return reservations }
        let end = refused.period.end(after: refused.period.start(at: now))
        let wait = end.map { Int(($0 - now + 999) / 1000) } ?? 86_400
        let until = end.map { " until the period ends at \(Clock.iso8601(millis: $0))" } ?? "; a total budget does not renew, an admin must raise it"
        throw TrafficError(kind: .budgetExceeded, message: "The \(refused.label) is used up\(until).", retryAfterSeconds: wait)
    }

    /// Settles in memory when the ledger is here (a soft-threshold crossing is audited off the
    /// path); true when the shared rows must be settled instead (``settleShared(_:cost:tokens:)``).
    func settleInMemory(_ reservations: [BudgetLedger.Reservation], cost: Double, tokens: Int) -> Bool {
        guard !reservations.isEmpty else { return false }
        guard let memory else { return true }
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
        return false
    }

    /// Settles the shared rows (PostgreSQL); errors are logged, the reservation then lapses with the period.
    func settleShared(_ reservations: [BudgetLedger.Reservation], cost: Double, tokens: Int) async {
        do {
            _ = try await BudgetLedger.settle(reservations, cost: cost, tokens: tokens, database: database)
        } catch {
            logger.error("settling a budget failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// A budget as read from its row, with this instance's live figures when the ledger is in memory.
    func current(_ budget: Budget) -> Budget {
        memory?.overlay(budget, now: Clock.nowMillis()) ?? budget
    }

    /// Writes what the in-memory ledger counted since the last flush.
    public func flush() async {
        guard let memory else { return }
        do {
            try await memory.flush(on: database)
        } catch {
            logger.warning("writing budget spending failed; retried at the next flush", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// Flushes the in-memory ledger every `flushInterval`, and once more at shutdown.
    public func run() async throws {
        // A service that returns early would stop the whole group: on PostgreSQL there is nothing to flush, so wait.
        guard memory != nil else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.flushInterval) }
            await flush()
        }
        await flush()
    }
}
