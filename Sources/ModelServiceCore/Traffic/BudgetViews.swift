import Foundation
import Logging
import SQLKit

/// Which version of the budgets each instance sharing PostgreSQL has loaded: one row per instance in
/// `budget_views`, written after each reload, so the instance that creates or changes a budget can
/// wait until the others enforce it. Nothing to do on SQLite (one instance).
package struct BudgetViews: Sendable {
    package let database: Database
    package let instanceId: String
    package let logger: Logger
    /// Instances whose heartbeat is older than this are gone (as ``TrafficInstances`` counts them).
    package var liveWithinMillis: Int64 = 30_000

    /// The `budgets` change counter now (nil before the feed created it).
    package static func version(database: Database) async throws -> Int64? {
        try await database.run { sql in
            try await sql.raw("SELECT version FROM change_counters WHERE name = \(bind: BudgetRows.changeCounter)").first()?
                .decode(column: "version", as: Int64.self)
        }
    }

    /// Reports that this instance enforces budgets as of `version`. A failure is logged: the writer
    /// then waits its bound for this instance, nothing more.
    package func seen(_ version: Int64) async {
        guard database.dialect == .postgres else { return }
        do {
            try await database.run { sql in
                try await sql.raw("""
                    INSERT INTO budget_views (instance_id, version, at) VALUES (\(bind: instanceId), \(bind: version), \(bind: Clock.nowMillis())) \
                    ON CONFLICT (instance_id) DO UPDATE SET version = GREATEST(budget_views.version, EXCLUDED.version), at = EXCLUDED.at
                    """).run()
            }
        } catch {
            logger.warning("reporting the budgets this instance loaded failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// Returns once every other live instance has loaded `version`, or after `bound`.
    package func waitForOthers(version: Int64, within bound: Duration) async {
        guard database.dialect == .postgres else { return }
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline, !Task.isCancelled {
            guard let lagging = try? await lagging(version: version), lagging > 0 else { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
        logger.notice("a budget change was not confirmed by every instance in time; their calls meanwhile are charged when they settle")
    }

    /// Live instances other than this one that have not loaded `version` yet; rows of instances gone are dropped.
    private func lagging(version: Int64) async throws -> Int {
        let cutoff = Clock.nowMillis() - liveWithinMillis
        return try await database.run { sql in
            try await sql.raw("""
                SELECT COUNT(*) AS lagging FROM traffic_instances t \
                WHERE t.last_seen >= \(bind: cutoff) AND t.instance_id <> \(bind: instanceId) AND NOT EXISTS ( \
                SELECT 1 FROM budget_views v WHERE v.instance_id = t.instance_id AND v.version >= \(bind: version))
                """).first()?.decode(column: "lagging", as: Int.self) ?? 0
        }
    }
}
