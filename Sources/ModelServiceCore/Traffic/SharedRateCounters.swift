import SQLKit

/// Rate-limit windows shared by every instance on one PostgreSQL, with no round-trip per call.
///
/// Request windows are admitted from leased blocks of permits (``RateLeases``): exact at the limit
/// across instances, one statement per block. Token windows are checked against a cached read of the
/// shared rows and written in batches (``SharedTokenTallies``): approximate, as token limits are.
/// Token windows are checked first and consume nothing, so a refused call counts against no window.
package final class SharedRateCounters: RateCounters {
    package let database: Database
    package let leases: RateLeases
    package let tokens: SharedTokenTallies

    package init(database: Database, capacity: Int = 100_000, refreshMillis: Int64 = 200) {
        self.database = database
        leases = RateLeases(database: database, capacity: capacity)
        tokens = SharedTokenTallies(database: database, capacity: capacity, refreshMillis: refreshMillis)
    }

    package func admit(_ windows: [RateWindow], at time: Int64) async throws -> RateRefusal? {
        var requestWindows: [RateWindow] = []
        var tokenWindows: [RateWindow] = []
        for window in windows {
            if window.unit == .requests { requestWindows.append(window) } else { tokenWindows.append(window) }
        }
        if !tokenWindows.isEmpty, let refusal = try await tokens.check(tokenWindows, at: time) { return refusal }
        return requestWindows.isEmpty ? nil : try await leases.acquire(requestWindows, at: time)
    }

    /// In memory: the next ``sync(at:)`` writes them.
    package func add(tokens: Int, to windows: [RateWindow], at time: Int64) {
        self.tokens.add(tokens: tokens, to: windows, at: time)
    }

    /// Writes settled tokens and refreshes the token windows in use; true when the database answered.
    @discardableResult
    package func sync(at time: Int64) async throws -> Bool {
        try await tokens.sync(at: time)
    }

    package func purge(before time: Int64) async throws {
        leases.purge(before: time)
        tokens.purge(before: time)
        try await database.run { sql in
            try await sql.raw("DELETE FROM rate_counters WHERE expires_at <= \(bind: time)").run()
        }
    }
}
