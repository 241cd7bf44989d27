import Foundation
import Synchronization

/// Which budgets apply to a call, from memory; reserving and settling go to the shared ledger.
///
/// The index (limits and owners, never the spent amounts) is reloaded when the `budgets` change
/// counter moves, so a call with no budget costs one dictionary lookup and no database round-trip.
public final class BudgetBook: Sendable {
    struct Limits: Sendable {
        var id: String
        var period: Budget.Period
        var label: String
    }

    private struct Index {
        var byUser: [String: [Limits]] = [:]
        var byToken: [String: [Limits]] = [:]
    }

    let database: Database
    private let index = Mutex(Index())
    private let reloads = Mutex<(started: Int, installed: Int)>((0, 0))

    init(database: Database) {
        self.database = database
    }

    public func reload() async throws {
        let ticket = reloads.withLock { $0.started += 1; return $0.started }
        let budgets = try await BudgetLedger.list(userId: nil, tokenId: nil, database: database)
        var fresh = Index()
        for budget in budgets {
            let limits = Limits(id: budget.id, period: budget.period, label: budget.label)
            if let userId = budget.userId { fresh.byUser[userId, default: []].append(limits) }
            if let tokenId = budget.tokenId { fresh.byToken[tokenId, default: []].append(limits) }
        }
        // An earlier reload finishing later holds older rows: only the newest is installed.
        reloads.withLock { reloads in
            guard ticket > reloads.installed else { return }
            reloads.installed = ticket
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

    /// Reserves the estimate on every budget of the call, or throws 429 `budget_exceeded`.
    func reserve(_ budgets: [Limits], cost: Double, tokens: Int, now: Int64) async throws -> [BudgetLedger.Reservation] {
        guard !budgets.isEmpty else { return [] }
        let reservations = budgets.map {
            BudgetLedger.Reservation(budgetId: $0.id, periodStart: $0.period.start(at: now), cost: cost, tokens: tokens)
        }
        guard let refusedId = try await BudgetLedger.reserve(reservations, database: database),
            let refused = budgets.first(where: { $0.id == refusedId })
        else { return reservations }
        let end = refused.period.end(after: refused.period.start(at: now))
        let wait = end.map { Int(($0 - now + 999) / 1000) } ?? 86_400
        let until = end.map { " until the period ends at \(Clock.iso8601(millis: $0))" } ?? "; a total budget does not renew, an admin must raise it"
        throw TrafficError(kind: .budgetExceeded, message: "The \(refused.label) is used up\(until).", retryAfterSeconds: wait)
    }
}
