import Foundation
import SQLKit
import Synchronization

/// The instances sharing one PostgreSQL, known by a heartbeat row each, so that while the database
/// cannot be reached every instance can enforce its share of a limit (`LIMITS_WHEN_DB_DOWN=local`).
///
/// The count kept is the last one read: an outage freezes it, which is the point.
package final class TrafficInstances: Sendable {
    package let id: String
    package let database: Database
    /// A row not refreshed for this long is an instance gone: not counted, and deleted.
    package let timeoutMillis: Int64
    private let live = Atomic<Int>(1)

    package init(database: Database, timeoutMillis: Int64 = 30_000, id: String = RandomIdentifier.uuid()) {
        self.database = database
        self.timeoutMillis = timeoutMillis
        self.id = id
    }

    /// Live instances, this one included, as last read (1 before the first heartbeat).
    package var count: Int { live.load(ordering: .relaxed) }

    /// Refreshes this instance's row, deletes rows gone stale and counts the live ones, in one statement.
    /// The count is read from the statement's snapshot, so this instance's own row is counted by `beat`.
    package func beat(at time: Int64) async throws {
        let cutoff = time - timeoutMillis
        let others = try await database.run { sql in
            try await sql.raw("""
                WITH beat AS (
                    INSERT INTO traffic_instances (instance_id, last_seen) VALUES (\(bind: id), \(bind: time)) \
                    ON CONFLICT (instance_id) DO UPDATE SET last_seen = EXCLUDED.last_seen RETURNING instance_id
                ), gone AS (
                    DELETE FROM traffic_instances WHERE last_seen < \(bind: cutoff) AND instance_id <> \(bind: id) RETURNING instance_id
                )
                SELECT (SELECT COUNT(*) FROM traffic_instances WHERE last_seen >= \(bind: cutoff) AND instance_id <> \(bind: id)) AS others, \
                (SELECT COUNT(*) FROM beat) AS beat, (SELECT COUNT(*) FROM gone) AS gone
                """).first()?.decode(column: "others", as: Int.self) ?? 0
        }
        live.store(others + 1, ordering: .relaxed)
    }

    /// Deletes this instance's row (graceful shutdown), so the others stop counting it at their next beat.
    package func leave() async throws {
        try await database.run { sql in
            try await sql.raw("DELETE FROM traffic_instances WHERE instance_id = \(bind: id)").run()
        }
    }
}
