import SQLKit
import Synchronization

/// Token windows shared by every instance on one PostgreSQL, with no statement per call.
///
/// A settled call's tokens are added in memory and written to the shared rows by one batched upsert
/// per ``sync(at:)`` (``RateLimiter`` runs one every 200 ms, and at shutdown). Admission compares a
/// window's limit with the shared value last read plus this instance's tokens not yet written; the same
/// sync re-reads the windows in use, so another instance's tokens are seen here at most two sync
/// intervals (plus a statement) after they settled. A window not read for five intervals (a caller
/// idle for a second) is read before the call. Token limits are approximate anyway: a call is checked
/// before its size is known, so a window can end over its limit by the calls in flight.
package final class SharedTokenTallies: Sendable {
    package typealias Slot = RateLeases.Slot

    private struct Tally {
        package var ends: Int64
        /// The shared row's `used` as last read or written; it only grows within a window, so reads merge by max.
        package var shared: Int64 = 0
        /// Settled here: being written, and not yet written.
        package var writing: Int64 = 0
        package var unwritten: Int64 = 0
        /// When `shared` was read (the time the read was issued); nil before the first.
        package var readAt: Int64?
        /// Checked since the last refresh, so the next sync re-reads it once stale.
        package var inUse = false
        /// The read in flight for a check that cannot go on without it.
        package var read: Task<Void, any Error>?

        package var total: Int64 { shared + writing + unwritten }
    }

    private struct State {
        package var tallies: [Slot: Tally] = [:]
        /// Windows with unwritten tokens, and windows checked since their last refresh: what a sync visits.
        package var dirty: Set<Slot> = []
        package var inUse: Set<Slot> = []
    }

    private enum Step {
        case admitted
        case refused(RateRefusal)
        case wait(Task<Void, any Error>)
    }

    private typealias Row = (slot: Slot, tokens: Int64, ends: Int64)

    /// Rows per statement (four bound values each, far under PostgreSQL's 65,535).
    package static let rowsPerStatement = 500

    package let database: Database
    package let capacity: Int
    /// A window's shared value is re-read when older than this, by the sync of a window in use.
    package let refreshMillis: Int64
    private let state = Mutex(State())
    private let writeCount = Atomic<Int>(0)
    private let readCount = Atomic<Int>(0)

    package init(database: Database, capacity: Int = 100_000, refreshMillis: Int64 = 200) {
        self.database = database
        self.capacity = max(16, capacity)
        self.refreshMillis = max(1, refreshMillis)
    }

    /// Write and read statements run so far.
    package var writes: Int { writeCount.load(ordering: .relaxed) }
    package var reads: Int { readCount.load(ordering: .relaxed) }
    package var count: Int { state.withLock { $0.tallies.count } }

    /// Refuses when a window's tokens (shared, as last read, plus this instance's unwritten) reach
    /// its limit; reads a window first only when it was never read or not for five refresh intervals.
    package func check(_ windows: [RateWindow], at time: Int64) async throws -> RateRefusal? {
        let slots = windows.map { Slot(key: $0.counterKey, start: $0.start(at: time)) }
        while true {
            let step = state.withLock { state in self.step(windows, slots, at: time, state: &state) }
            switch step {
            case .admitted: return nil
            case .refused(let refusal): return refusal
            case .wait(let read): try await read.value
            }
        }
    }

    private func step(_ windows: [RateWindow], _ slots: [Slot], at time: Int64, state: inout State) -> Step {
        if state.tallies.count >= capacity { Self.shrink(&state.tallies, capacity: capacity, at: time) }
        var unread: [Slot] = []
        var pending: Task<Void, any Error>?
        for (index, window) in windows.enumerated() {
            let slot = slots[index]
            var tally = state.tallies[slot] ?? Tally(ends: slot.start + window.spanMillis)
            if !tally.inUse {
                tally.inUse = true
                state.inUse.insert(slot)
            }
            state.tallies[slot] = tally
            if let readAt = tally.readAt, time - readAt <= refreshMillis * 5 {
                if tally.total >= Int64(window.limit) { return .refused(RateRefusal(window: window, waitMillis: tally.ends - time)) }
            } else if let read = tally.read {
                pending = read
            } else {
                unread.append(slot)
            }
        }
        if !unread.isEmpty {
            let read = Task { try await self.read(unread, at: time, forCheck: true) }
            for slot in unread { state.tallies[slot]?.read = read }
            return .wait(read)
        }
        return pending.map(Step.wait) ?? .admitted
    }

    /// Adds a settled call's tokens to its windows, in memory until the next sync writes them.
    package func add(tokens: Int, to windows: [RateWindow], at time: Int64) {
        guard tokens > 0 else { return }
        state.withLock { state in
            if state.tallies.count >= capacity { Self.shrink(&state.tallies, capacity: capacity, at: time) }
            for window in windows where window.unit == .tokens {
                let start = window.start(at: time)
                let slot = Slot(key: window.counterKey, start: start)
                var tally = state.tallies[slot] ?? Tally(ends: start + window.spanMillis)
                if tally.unwritten == 0 { state.dirty.insert(slot) }
                tally.unwritten += Int64(tokens)
                state.tallies[slot] = tally
            }
        }
    }

    /// Writes the tokens settled since the last sync, then re-reads the windows in use whose value is
    /// older than the refresh interval. True when it ran a statement (the database answered).
    @discardableResult
    package func sync(at time: Int64) async throws -> Bool {
        let (batch, stale) = state.withLock { state in
            var batch: [Row] = []
            for slot in state.dirty {
                guard var tally = state.tallies[slot], tally.ends > time, tally.unwritten > 0 else { continue }
                batch.append((slot, tally.unwritten, tally.ends))
                tally.writing += tally.unwritten
                tally.unwritten = 0
                state.tallies[slot] = tally
            }
            state.dirty.removeAll(keepingCapacity: true)
            var stale: [Slot] = []
            var inUse: Set<Slot> = []
            for slot in state.inUse {
                guard var tally = state.tallies[slot], tally.ends > time else { continue }
                // A window being written is refreshed by the write's answer.
                if tally.writing > 0 || (tally.read == nil && time - (tally.readAt ?? .min / 2) > refreshMillis) {
                    if tally.writing == 0 { stale.append(slot) }
                    tally.inUse = false
                    state.tallies[slot] = tally
                } else {
                    inUse.insert(slot)
                }
            }
            state.inUse = inUse
            return (batch, stale)
        }
        for first in stride(from: 0, to: batch.count, by: Self.rowsPerStatement) {
            try await write(batch[first...], count: min(Self.rowsPerStatement, batch.count - first), at: time)
        }
        if !stale.isEmpty { try await read(stale, at: time, forCheck: false) }
        return !batch.isEmpty || !stale.isEmpty
    }

    /// One upsert adding the first `count` windows' tokens; the rows it returns are fresh reads. On
    /// failure the tokens of this and the later statements (`rows`) go back to unwritten, for the next sync.
    private func write(_ rows: ArraySlice<Row>, count: Int, at time: Int64) async throws {
        let written = rows.prefix(count)
        let values: [SQLQueryString] = written.map {
            "(\(bind: $0.slot.key), \(bind: $0.slot.start), \(bind: $0.tokens), \(bind: $0.ends))"
        }
        let query: SQLQueryString =
            "INSERT INTO rate_counters (counter_key, window_start, used, expires_at) VALUES " + values.joined(separator: ", ")
            + " ON CONFLICT (counter_key, window_start) DO UPDATE SET used = rate_counters.used + EXCLUDED.used RETURNING counter_key, window_start, used"
        let used: [Slot: Int64]
        do {
            used = try await database.run { sql in try Self.decode(try await sql.raw(query).all()) }
        } catch {
            state.withLock { state in
                for row in rows where state.tallies[row.slot] != nil {
                    state.tallies[row.slot]!.writing -= row.tokens
                    state.tallies[row.slot]!.unwritten += row.tokens
                    state.dirty.insert(row.slot)
                }
            }
            throw error
        }
        writeCount.add(1, ordering: .relaxed)
        state.withLock { state in
            for row in written where state.tallies[row.slot] != nil {
                state.tallies[row.slot]!.writing -= row.tokens
                state.tallies[row.slot]!.shared = max(state.tallies[row.slot]!.shared, used[row.slot] ?? 0)
                state.tallies[row.slot]!.readAt = max(state.tallies[row.slot]!.readAt ?? time, time)
            }
        }
    }

    /// Reads the shared rows of `slots` (a missing row is 0 tokens).
    private func read(_ slots: [Slot], at time: Int64, forCheck: Bool) async throws {
        let used: [Slot: Int64]
        do {
            used = try await database.run { sql in
                var used: [Slot: Int64] = [:]
                for first in stride(from: 0, to: slots.count, by: Self.rowsPerStatement) {
                    let conditions: [SQLQueryString] = slots[first..<min(slots.count, first + Self.rowsPerStatement)].map {
                        "(counter_key = \(bind: $0.key) AND window_start = \(bind: $0.start))"
                    }
                    let query: SQLQueryString = "SELECT counter_key, window_start, used FROM rate_counters WHERE " + conditions.joined(separator: " OR ")
                    used.merge(try Self.decode(try await sql.raw(query).all())) { $1 }
                }
                return used
            }
        } catch {
            if forCheck { state.withLock { state in for slot in slots { state.tallies[slot]?.read = nil } } }
            throw error
        }
        readCount.add(1, ordering: .relaxed)
        state.withLock { state in
            for slot in slots where state.tallies[slot] != nil {
                state.tallies[slot]!.shared = max(state.tallies[slot]!.shared, used[slot] ?? 0)
                state.tallies[slot]!.readAt = max(state.tallies[slot]!.readAt ?? time, time)
                if forCheck { state.tallies[slot]!.read = nil }
            }
        }
    }

    private static func decode(_ rows: [any SQLRow]) throws -> [Slot: Int64] {
        var used: [Slot: Int64] = [:]
        for row in rows {
            let slot = Slot(key: try row.decode(column: "counter_key", as: String.self), start: try row.decode(column: "window_start", as: Int64.self))
            used[slot] = try row.decode(column: "used", as: Int64.self)
        }
        return used
    }

    /// Forgets windows that have ended (their tokens no longer matter).
    package func purge(before time: Int64) {
        state.withLock { state in state.tallies = state.tallies.filter { $0.value.ends > time } }
    }

    /// Past `capacity`: ended windows first, then those ending soonest with nothing to write or read,
    /// then (callers inventing names faster than a sync) the soonest ending, down to three quarters.
    private static func shrink(_ tallies: inout [Slot: Tally], capacity: Int, at time: Int64) {
        tallies = tallies.filter { $0.value.ends > time }
        guard tallies.count >= capacity else { return }
        let drop = tallies.count - capacity * 3 / 4
        let ordered = tallies.sorted { lhs, rhs in
            let (left, right) = (lhs.value.unwritten + lhs.value.writing == 0 && lhs.value.read == nil, rhs.value.unwritten + rhs.value.writing == 0 && rhs.value.read == nil)
            return left != right ? left : lhs.value.ends < rhs.value.ends
        }
        for (slot, _) in ordered.prefix(drop) { tallies.removeValue(forKey: slot) }
    }
}
