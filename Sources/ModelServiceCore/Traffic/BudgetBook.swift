import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Which budgets apply to a call, from memory, and where their reservations go: the ``BudgetLedger``
/// (this instance's memory on SQLite, written back in batches; the shared rows with leased headroom on
/// PostgreSQL, so every instance holds one budget).
///
/// The index is reloaded when the `budgets` change counter moves, so a call with no budget costs
/// one dictionary lookup and no database round-trip.
public final class BudgetBook: Service, Sendable {
    package struct Limits: Sendable {
        package var id: String
        package var period: Budget.Period
        package var label: String
        package var userId: String?
        package var tokenId: String?
        package var teamId: String?
        package var maxCost: Double?
        package var maxTokens: Int?
        package var softThreshold: Double

        package init(_ budget: Budget) {
            id = budget.id
            period = budget.period
            label = budget.label
            userId = budget.userId
            tokenId = budget.tokenId
            teamId = budget.teamId
            maxCost = budget.maxCost
            maxTokens = budget.maxTokens
            softThreshold = budget.softThreshold
        }
    }

    private struct Index {
        package var byUser: [String: [Limits]] = [:]
        package var byToken: [String: [Limits]] = [:]
        package var byTeam: [String: [Limits]] = [:]
    }

    package let database: Database
    /// Where the spending is counted: memory (SQLite) or the shared rows with leases (PostgreSQL).
    package let ledger: any BudgetLedger
    private let logger: Logger
    /// Where a refusal is reported (`budget.exceeded`); nil sends no alert.
    private let events: WebhookEmitter?
    private let flushInterval: Duration
    private let index = Mutex(Index())
    /// Which budget version each instance has loaded (PostgreSQL).
    private let views: BudgetViews
    private let reloads = Mutex<(started: Int, installed: Int)>((0, 0))

    /// `instanceId` names this instance's leases (its heartbeat row, ``TrafficInstances``).
    package init(database: Database, instanceId: String, logger: Logger, events: WebhookEmitter? = nil, flushInterval: Duration? = nil) {
        self.database = database
        self.logger = logger
        self.events = events
        ledger =
            database.dialect == .postgres
            ? LeasedBudgetLedger(database: database, instanceId: instanceId, logger: logger) : MemoryBudgetLedger(database: database, logger: logger)
        self.flushInterval = flushInterval ?? ledger.flushInterval
        views = BudgetViews(database: database, instanceId: instanceId, logger: logger)
    }

    /// A user's budgets as the API shows them (this instance's live figures included).
    public func list(userId: String) async throws -> [Budget] {
        try await BudgetRows.list(userId: userId, tokenId: nil, database: database).map(current)
    }

    /// Lease statements this instance ran (take, write, hand back); 0 on SQLite. For the benchmarks.
    public var leaseStatements: Int { ledger.statements }

    /// Reads every budget and installs them; returns the version of the `budgets` change counter the
    /// rows are at least as new as (read first), which this instance then reports as seen (PostgreSQL).
    @discardableResult
    public func reload() async throws -> Int64? {
        let ticket = reloads.withLock { $0.started += 1; return $0.started }
        let now = Clock.nowMillis()
        let version = try await BudgetViews.version(database: database)
        let budgets = try await BudgetRows.list(userId: nil, tokenId: nil, database: database)
        var fresh = Index()
        for budget in budgets {
            let limits = Limits(budget)
            if let userId = budget.userId { fresh.byUser[userId, default: []].append(limits) }
            if let tokenId = budget.tokenId { fresh.byToken[tokenId, default: []].append(limits) }
            if let teamId = budget.teamId { fresh.byTeam[teamId, default: []].append(limits) }
        }
        // An earlier reload finishing later holds older rows: only the newest is installed.
        let installed = reloads.withLock { reloads in
            guard ticket > reloads.installed else { return false }
            reloads.installed = ticket
            ledger.budgetsChanged(budgets, now: now)
            index.withLock { $0 = fresh }
            return true
        }
        if installed, let version { await views.seen(version) }
        return version
    }

    /// Creates a budget (validated by the caller) and makes it apply at once on this instance.
    public func create(
        userId: String?, tokenId: String?, teamId: String? = nil, period: Budget.Period, maxCost: Double?, maxTokens: Int?, softThreshold: Double = 0.8
    ) async throws -> Budget {
        let fields = BudgetRows.Fields(
            userId: userId, tokenId: tokenId, teamId: teamId, period: period, maxCost: maxCost, maxTokens: maxTokens, softThreshold: softThreshold)
        let budget = try await BudgetRows.insert(fields, database: database)
        await inForceEverywhere(version: try await reload())
        return budget
    }

    /// Changes a budget's limits; nil when it does not exist. In force on every instance on return, as ``create``.
    package func update(id: String, _ fields: BudgetRows.Fields) async throws -> Budget? {
        guard let budget = try await BudgetRows.update(id: id, fields, database: database) else { return nil }
        await inForceEverywhere(version: try await reload())
        return budget
    }

    /// Waits (briefly) until the other live instances have loaded budgets as new as `version`, so a
    /// budget is enforced everywhere once its API call answers. An instance that does not answer in
    /// time is not waited for longer: the calls it admits meanwhile are charged when they settle.
    private func inForceEverywhere(version: Int64?) async {
        guard let version else { return }
        await views.waitForOthers(version: version, within: .seconds(2))
    }

    /// Every budget a call must fit: its user's, its token's and its team's.
    package func budgets(userId: String?, tokenId: String, teamId: String? = nil) -> [Limits] {
        index.withLock { index in
            (userId.flatMap { index.byUser[$0] } ?? []) + (index.byToken[tokenId] ?? []) + (teamId.flatMap { index.byTeam[$0] } ?? [])
        }
    }

    /// Reserves the estimate on every budget of the call, or throws `budget_exceeded`.
    package func reserve(_ budgets: [Limits], cost: Double, tokens: Int, now: Int64) async throws(ServiceError) -> [BudgetRows.Reservation] {
        guard !budgets.isEmpty else { return [] }
        var reservations = budgets.map {
            BudgetRows.Reservation(budgetId: $0.id, periodStart: $0.period.start(at: now), cost: cost, tokens: tokens)
        }
        let refusedId: String?
        do {
            refusedId = try await ledger.reserve(budgets, &reservations, now: now)
        } catch {
            logger.warning("budgets cannot be reserved", metadata: ["error": "\(Database.describe(error))"])
            throw ServiceError.refusal(.limitsUnavailable, "Budgets cannot be checked right now; retry shortly.", retryAfterSeconds: 5)
        }
        guard let refusedId, let refused = budgets.first(where: { $0.id == refusedId }) else { return reservations }
        let start = refused.period.start(at: now)
        let end = refused.period.end(after: start)
        events?.budgetExceeded(budgetId: refused.id, periodStart: start, periodEnd: end, now: now)
        let wait = end.map { Int(($0 - now + 999) / 1000) } ?? 86_400
        let until = end.map { " until the period ends at \(Clock.iso8601(millis: $0))" } ?? "; a total budget does not renew, an admin must raise it"
        throw ServiceError.refusal(.budgetExceeded, "The \(refused.label) is used up\(until).", retryAfterSeconds: wait)
    }

    /// Settles in memory what is held here; returns the reservations held in shared rows, to settle with
    /// ``settleShared(_:cost:tokens:)`` off the call's path.
    package func settleInMemory(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) -> [BudgetRows.Reservation] {
        reservations.isEmpty ? [] : ledger.settle(reservations, cost: cost, tokens: tokens)
    }

    /// Settles the shared rows (PostgreSQL); errors are logged, the reservation then lapses with the period.
    package func settleShared(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) async {
        await ledger.settleInRows(reservations, cost: cost, tokens: tokens)
    }

    /// A budget as read from its row, with this instance's live figures.
    package func current(_ budget: Budget) -> Budget {
        ledger.current(budget)
    }

    /// Writes what calls spent since the last flush.
    public func flush() async {
        await ledger.flush()
    }

    /// Flushes every `flushInterval` (with the ledger's upkeep), then once more at shutdown, handing back
    /// all leased headroom.
    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.flushInterval) }
            await ledger.flush()
            await ledger.housekeeping()
        }
        await ledger.finish()
    }
}
