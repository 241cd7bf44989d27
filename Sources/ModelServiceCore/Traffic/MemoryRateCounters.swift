import Synchronization

/// Rate-limit windows in memory: one lock and a dictionary lookup per window, no database.
///
/// Bounded: past `capacity` windows, ended ones are dropped, then (if callers keep inventing
/// names) the oldest, so memory never grows with the number of caller names.
package final class MemoryRateCounters: RateCounters {
    private struct Slot: Hashable {
        package var key: String
        package var start: Int64
    }

    private struct Count {
        package var used: Int
        package var ends: Int64
    }

    private let counts = Mutex<[Slot: Count]>([:])
    package let capacity: Int

    package init(capacity: Int = 100_000) {
        self.capacity = max(16, capacity)
    }

    package var count: Int { counts.withLock { $0.count } }

    package func admit(_ windows: [RateWindow], at time: Int64) -> RateRefusal? {
        counts.withLock { counts in
            for window in windows {
                let slot = Slot(key: window.counterKey, start: window.start(at: time))
                if (counts[slot]?.used ?? 0) >= window.limit {
                    return RateRefusal(window: window, waitMillis: slot.start + window.spanMillis - time)
                }
            }
            for window in windows where window.unit == .requests {
                let start = window.start(at: time)
                counts[Slot(key: window.counterKey, start: start), default: Count(used: 0, ends: start + window.spanMillis)].used += 1
            }
            if counts.count > capacity { Self.shrink(&counts, capacity: capacity, at: time) }
            return nil
        }
    }

    /// Counts a call admitted elsewhere (the shared counters) against its request windows, unchecked.
    package func count(_ windows: [RateWindow], at time: Int64) {
        counts.withLock { counts in
            for window in windows where window.unit == .requests {
                let start = window.start(at: time)
                counts[Slot(key: window.counterKey, start: start), default: Count(used: 0, ends: start + window.spanMillis)].used += 1
            }
            if counts.count > capacity { Self.shrink(&counts, capacity: capacity, at: time) }
        }
    }

    package func add(tokens: Int, to windows: [RateWindow], at time: Int64) {
        guard tokens > 0 else { return }
        counts.withLock { counts in
            for window in windows where window.unit == .tokens {
                let start = window.start(at: time)
                counts[Slot(key: window.counterKey, start: start), default: Count(used: 0, ends: start + window.spanMillis)].used += tokens
            }
            if counts.count > capacity { Self.shrink(&counts, capacity: capacity, at: time) }
        }
    }

    package func purge(before time: Int64) {
        counts.withLock { counts in counts = counts.filter { $0.value.ends > time } }
    }

    private static func shrink(_ counts: inout [Slot: Count], capacity: Int, at time: Int64) {
        counts = counts.filter { $0.value.ends > time }
        guard counts.count > capacity else { return }
        // Still full of live windows: drop the ones ending soonest, down to three quarters.
        let drop = counts.count - capacity * 3 / 4
        for (slot, _) in counts.sorted(by: { $0.value.ends < $1.value.ends }).prefix(drop) { counts.removeValue(forKey: slot) }
    }
}
