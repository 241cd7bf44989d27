import SQLKit

/// Where budget spending is counted, as ``RateCounters`` is for limits: in this instance's memory on SQLite
/// (one instance, ``MemoryBudgetLedger``), or in the shared rows with headroom each instance leases on
/// PostgreSQL (``LeasedBudgetLedger``). ``BudgetBook`` picks the budgets of a call and hands them here.
package protocol BudgetLedger: Sendable {
    /// How often spending is written to the rows.
    var flushInterval: Duration { get }
    /// Lease statements run so far (take, write, hand back); 0 in memory. For the benchmarks.
    var statements: Int { get }

    /// The budgets as their rows now say (loaded at start, or changed: created, edited, deleted).
    func budgetsChanged(_ budgets: [Budget], now: Int64)

    /// Reserves every reservation or none; the id of the first budget without room. Throws when the
    /// budgets cannot be read (the shared rows unreachable).
    func reserve(_ budgets: [BudgetBook.Limits], _ reservations: inout [BudgetRows.Reservation], now: Int64) async throws -> String?

    /// Replaces a call's reservations with what it spent, as far as that is done in memory; returns the
    /// reservations held in shared rows, to settle with ``settleInRows(_:cost:tokens:)`` off the call's path.
    func settle(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) -> [BudgetRows.Reservation]

    /// Settles reservations held in the shared rows (one statement); a failure is logged and the
    /// reservation lapses with its period.
    func settleInRows(_ reservations: [BudgetRows.Reservation], cost: Double, tokens: Int) async

    /// Charges what calls that settled without reserving on these budgets owe them, inside the
    /// transaction writing their usage records; returns what to do once it committed, or nil.
    func chargeLate(_ owed: [LateBudgetCharges.Owed], on sql: any SQLDatabase) async throws -> (@Sendable () -> Void)?

    /// A budget as read from its row, with this instance's figures not written yet.
    func current(_ budget: Budget) -> Budget

    /// Writes what calls spent since the last flush (and hands back headroom no longer needed).
    func flush() async

    /// At shutdown: writes everything and hands back every lease.
    func finish() async

    /// Periodic upkeep beside the flushes (handing back the leases of instances gone).
    func housekeeping() async
}
