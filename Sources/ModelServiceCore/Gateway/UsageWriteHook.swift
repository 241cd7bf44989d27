import SQLKit

/// Work that belongs with usage records as they are written: charging the budgets a call could not
/// reserve on (``BudgetBook``). Called only with the records a batch really inserted, so a record
/// written twice (a retried batch, a re-imported spill file) counts once.
package protocol UsageWriteHook: Sendable {
    /// Inside the transaction that inserts `records`: a failure rolls the batch back, to be retried.
    /// Returns what to do once that transaction committed (work kept in memory, which a rollback
    /// could not undo), or nil.
    func writing(_ records: [UsageRecord], on sql: any SQLDatabase) async throws -> (@Sendable () -> Void)?
}
