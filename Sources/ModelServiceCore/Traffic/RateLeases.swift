import SQLKit
import Synchronization

/// Request windows shared by every instance on one PostgreSQL, admitted from leased blocks of permits.
///
/// An instance takes a block of permits from a window's shared row in one atomic upsert and then
/// admits calls from it with no round-trip until the block is spent. The row never hands out more
/// than the limit, so all instances together never admit more than the limit. Permits still in a
/// block when its window ends are never used: the limit is then stricter by at most one block per
/// instance. Blocks shrink near the limit (a sixteenth of what is left, or what the callers waiting
/// need, at most 256): a 10-per-minute limit is leased one permit at a time, exact, while
/// 100,000 per minute needs one statement per hundreds of calls.
package final class RateLeases: Sendable {
    /// One window of one counter: leases belong to a window start, so a new window starts with no block.
    package struct Slot: Hashable, Sendable {
        package var key: String
        package var start: Int64
    }

    private struct Block {
        package var limit: Int
        package var ends: Int64
        /// Leased and not yet used by a call.
        package var available = 0
        /// The shared row's `used` after this instance's last lease (what the next block is sized on).
        package var sharedUsed: Int64 = 0
        /// The shared row is at the limit: nothing is left to lease in this window.
        package var exhausted = false
        /// The lease in flight: callers short of a permit wait for it instead of leasing again.
        package var lease: Task<Void, any Error>?
        /// Callers waiting for `lease`, the demand the next lease asks for.
        package var waiting = 0
        /// The last lease's grant: the next block is taken ahead once a quarter of it is left.
        package var lastGrant = 0
    }

    private enum Step {
        case admitted
        case refused(RateRefusal)
        case wait(Slot, Task<Void, any Error>, counted: Bool)
    }

    package static let largestBlock = 256

    package let database: Database
    package let capacity: Int
    private let blocks = Mutex<[Slot: Block]>([:])
    private let statementCount = Atomic<Int>(0)

    package init(database: Database, capacity: Int = 100_000) {
        self.database = database
        self.capacity = max(16, capacity)
    }

    /// Lease statements run so far (each one round-trip).
    package var statements: Int { statementCount.load(ordering: .relaxed) }

    /// Blocks held in memory.
    package var count: Int { blocks.withLock { $0.count } }

    /// Permits this instance holds for `window` at `time`.
    package func available(_ window: RateWindow, at time: Int64) -> Int {
        blocks.withLock { $0[Slot(key: window.counterKey, start: window.start(at: time))]?.available ?? 0 }
    }

    /// Takes one permit of every window, all or nothing, leasing blocks as needed; a refusal names a
    /// window whose shared row is at the limit. A call refused by one window takes no permit of the
    /// others: what was leased for them stays in this instance's blocks for the next calls (already
    /// counted in the shared rows, so at worst the limit is one block stricter).
    package func acquire(_ windows: [RateWindow], at time: Int64) async throws -> RateRefusal? {
        let slots = windows.map { Slot(key: $0.counterKey, start: $0.start(at: time)) }
        var waited: (slot: Slot, counted: Bool)?
        while true {
            let step = blocks.withLock { blocks in
                if let waited, waited.counted, blocks[waited.slot] != nil {
                    blocks[waited.slot]!.waiting = max(0, blocks[waited.slot]!.waiting - 1)
                }
                return self.step(windows, slots, at: time, blocks: &blocks)
            }
            switch step {
            case .admitted:
                return nil
            case .refused(let refusal):
                return refusal
            case .wait(let slot, let lease, let counted):
                waited = (slot, counted)
                let outcome = await lease.result
                if case .failure(let error) = outcome {
                    if counted { blocks.withLock { if $0[slot] != nil { $0[slot]!.waiting = max(0, $0[slot]!.waiting - 1) } } }
                    throw error
                }
            }
        }
    }

    private func step(_ windows: [RateWindow], _ slots: [Slot], at time: Int64, blocks: inout [Slot: Block]) -> Step {
        if blocks.count >= capacity { Self.shrink(&blocks, capacity: capacity, at: time) }
        // The window to lease for next: the one with the least room left, the likeliest to refuse.
        var short: Int?
        for (index, window) in windows.enumerated() {
            let slot = slots[index]
            var block = blocks[slot] ?? Block(limit: window.limit, ends: slot.start + window.spanMillis)
            if block.limit != window.limit {
                // An admin changed the limit: lease under the new one (a lowered limit drops what is held).
                if window.limit < block.limit { block.available = 0 }
                block.limit = window.limit
                block.exhausted = false
                blocks[slot] = block
            } else if blocks[slot] == nil {
                blocks[slot] = block
            }
            if block.available > 0 { continue }
            if block.exhausted || window.limit <= 0 {
                return .refused(RateRefusal(window: window, waitMillis: block.ends - time))
            }
            if let current = short, Self.room(blocks[slots[current]]!) <= Self.room(block) { continue }
            short = index
        }
        guard let short else {
            for (index, slot) in slots.enumerated() {
                blocks[slot]!.available -= 1
                leaseAhead(windows[index], slot: slot, blocks: &blocks)
            }
            return .admitted
        }
        let slot = slots[short]
        if let lease = blocks[slot]!.lease {
            blocks[slot]!.waiting += 1
            return .wait(slot, lease, counted: true)
        }
        let block = blocks[slot]!
        let sized = min(Self.largestBlock, max(1, Self.room(block) / 16))
        let want = min(block.limit, max(sized, min(Self.largestBlock, block.waiting + 1)))
        let window = windows[short]
        let lease = Task { try await self.lease(window, slot: slot, want: want) }
        blocks[slot]!.lease = lease
        return .wait(slot, lease, counted: false)
    }

    /// With plenty of room left (a block of 16 or more), the next block is leased while a quarter of
    /// the current one is left, so calls do not wait for it. Near the limit blocks are small and only
    /// leased when needed, so what is held ahead never makes the limit noticeably stricter.
    private func leaseAhead(_ window: RateWindow, slot: Slot, blocks: inout [Slot: Block]) {
        let block = blocks[slot]!
        guard block.lease == nil, !block.exhausted, block.available * 4 <= block.lastGrant else { return }
        let sized = min(Self.largestBlock, Self.room(block) / 16)
        guard sized >= 16 else { return }
        // Nobody awaits it: a failure is met again by the caller that finds the block empty.
        blocks[slot]!.lease = Task { try await self.lease(window, slot: slot, want: min(block.limit, sized)) }
    }

    private static func room(_ block: Block) -> Int { max(0, block.limit - Int(clamping: block.sharedUsed)) }

    /// Takes up to `want` permits from the shared row in one statement. The row is locked by the
    /// upsert, and every SET expression reads the row as it was, so `granted` is exactly what this
    /// statement added; a full row is left alone and returns nothing.
    private func lease(_ window: RateWindow, slot: Slot, want: Int) async throws {
        let limit = Int64(window.limit)
        let wanted = Int64(want)
        let ends = slot.start + window.spanMillis
        let outcome: (granted: Int64, used: Int64)
        do {
            outcome = try await database.run { sql in
                let row = try await sql.raw("""
                    INSERT INTO rate_counters AS c (counter_key, window_start, used, granted, expires_at) \
                    VALUES (\(bind: slot.key), \(bind: slot.start), \(bind: wanted), \(bind: wanted), \(bind: ends)) \
                    ON CONFLICT (counter_key, window_start) DO UPDATE \
                    SET used = LEAST(\(bind: limit), c.used + \(bind: wanted)), granted = LEAST(\(bind: limit), c.used + \(bind: wanted)) - c.used \
                    WHERE c.used < \(bind: limit) RETURNING used, granted
                    """).first()
                guard let row else { return (0, limit) }
                return (try row.decode(column: "granted", as: Int64.self), try row.decode(column: "used", as: Int64.self))
            }
        } catch {
            blocks.withLock { $0[slot]?.lease = nil }
            throw error
        }
        statementCount.add(1, ordering: .relaxed)
        blocks.withLock { blocks in
            // A block dropped meanwhile had ended (shrinking keeps blocks with a lease in flight).
            guard var block = blocks[slot] else { return }
            block.lease = nil
            block.sharedUsed = outcome.used
            if block.limit == window.limit {
                block.available += Int(outcome.granted)
                block.lastGrant = Int(outcome.granted)
                if outcome.granted < wanted { block.exhausted = true }
            }
            blocks[slot] = block
        }
    }

    /// Forgets blocks whose window has ended.
    package func purge(before time: Int64) {
        blocks.withLock { blocks in blocks = blocks.filter { $0.value.ends > time } }
    }

    /// Past `capacity`: ended windows first, then the blocks ending soonest, down to three quarters,
    /// never one whose lease is in flight (its permits would be lost, not just the block).
    private static func shrink(_ blocks: inout [Slot: Block], capacity: Int, at time: Int64) {
        blocks = blocks.filter { $0.value.ends > time }
        guard blocks.count >= capacity else { return }
        let drop = blocks.count - capacity * 3 / 4
        let idle = blocks.filter { $0.value.lease == nil }.sorted { $0.value.ends < $1.value.ends }
        for (slot, _) in idle.prefix(drop) { blocks.removeValue(forKey: slot) }
    }
}
