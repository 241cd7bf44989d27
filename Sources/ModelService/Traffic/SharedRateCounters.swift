import SQLKit

/// Rate-limit windows shared by every instance on one PostgreSQL, exact at the limit.
///
/// One transaction per admitted call: each request window is an atomic upsert that increments
/// only while under the limit (the row lock orders concurrent callers of every instance); token
/// windows are read. A refusal rolls the transaction back, so it counts against no window.
final class SharedRateCounters: RateCounters {
    let database: Database

    init(database: Database) {
        self.database = database
    }

    func admit(_ windows: [RateWindow], at time: Int64) async throws -> RateRefusal? {
        do {
            try await database.transaction { sql in
                for window in windows {
                    let start = window.start(at: time)
                    let refusal = RateRefusal(window: window, waitMillis: start + window.spanMillis - time)
                    switch window.unit {
                    case .requests:
                        let row = try await sql.raw("""
                            INSERT INTO rate_counters (counter_key, window_start, used, expires_at) \
                            VALUES (\(bind: window.counterKey), \(bind: start), 1, \(bind: start + window.spanMillis)) \
                            ON CONFLICT (counter_key, window_start) DO UPDATE SET used = rate_counters.used + 1 \
                            WHERE rate_counters.used < \(bind: Int64(window.limit)) RETURNING used
                            """).first()
                        if row == nil { throw refusal }
                    case .tokens:
                        let used = try await sql.raw("""
                            SELECT used FROM rate_counters WHERE counter_key = \(bind: window.counterKey) AND window_start = \(bind: start)
                            """).first()?.decode(column: "used", as: Int64.self) ?? 0
                        if used >= Int64(window.limit) { throw refusal }
                    }
                }
            }
            return nil
        } catch let refusal as RateRefusal {
            return refusal
        }
    }

    func add(tokens: Int, to windows: [RateWindow], at time: Int64) async throws {
        let tokenWindows = windows.filter { $0.unit == .tokens }
        guard tokens > 0, !tokenWindows.isEmpty else { return }
        try await database.run { sql in
            for window in tokenWindows {
                let start = window.start(at: time)
                try await sql.raw("""
                    INSERT INTO rate_counters (counter_key, window_start, used, expires_at) \
                    VALUES (\(bind: window.counterKey), \(bind: start), \(bind: Int64(tokens)), \(bind: start + window.spanMillis)) \
                    ON CONFLICT (counter_key, window_start) DO UPDATE SET used = rate_counters.used + \(bind: Int64(tokens))
                    """).run()
            }
        }
    }

    func purge(before time: Int64) async throws {
        try await database.run { sql in
            try await sql.raw("DELETE FROM rate_counters WHERE expires_at <= \(bind: time)").run()
        }
    }
}
