import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Shared limits on PostgreSQL (runs when TEST_DATABASE_URL is set): request windows leased in blocks,
/// token windows written in batches, both exact or bounded across two instances on one database.
/// Each "instance" here is its own set of counters on one database; times are fixed, so no window turns.
@Suite struct SharedLimitsTests {
    static var enabled: Bool { TestDatabase.available.contains(.postgres) }

    /// The middle of a minute (and of an hour): a fixed time, so every call falls in one window.
    static let time: Int64 = 1_800_000_030_000

    static func withDatabase(_ body: @Sendable (Database) async throws -> Void) async throws {
        let location = try DatabaseLocation.parse(try await TestDatabase.postgres.makeURL(), dataDirectory: "/tmp")
        let database = try await Database.open(location, logger: TestApp.logger)
        try await database.withRunning { database in
            try await Migrations.run(on: database)
            try await body(database)
        }
    }

    static func used(_ window: RateWindow, at time: Int64, in database: Database) async throws -> Int64 {
        try await database.run { sql in
            try await sql.raw("""
                SELECT used FROM rate_counters WHERE counter_key = \(bind: window.counterKey) AND window_start = \(bind: window.start(at: time))
                """).first()?.decode(column: "used", as: Int64.self) ?? 0
        }
    }

    /// 150 calls, 75 on each instance by 5 concurrent callers each, against 100 per minute. The shared
    /// row hands out exactly 100 permits; an instance refuses only once its block is spent and the row
    /// is full, so at most one instance ends with permits left, at most one block (a sixteenth of the
    /// room left, or the 5 callers waiting: ≤ 6 here). Hence 100 − 2 × 6 ≤ admitted ≤ 100.
    @Test(.enabled(if: enabled))
    func aLargeLimitIsLeasedInBlocksAndNeverExceededOverTwoInstances() async throws {
        try await Self.withDatabase { database in
            let instances = [SharedRateCounters(database: database), SharedRateCounters(database: database)]
            let window = RateWindow(model: "m-large", caller: "user:lease", unit: .requests, spanMillis: 60_000, limit: 100)
            let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
                for counters in instances {
                    for _ in 0..<5 {
                        group.addTask {
                            var admitted = 0
                            for _ in 0..<15 {
                                if try await counters.admit([window], at: Self.time) == nil { admitted += 1 }
                            }
                            return admitted
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(admitted <= 100)
            #expect(admitted >= 100 - 2 * 6)
            #expect(try await Self.used(window, at: Self.time, in: database) == 100)
            let statements = instances.map(\.leases.statements).reduce(0, +)
            #expect(statements <= 40, "\(statements) lease statements for 150 calls")
        }
    }

    /// 100,000 per minute: blocks of 256, the next one leased ahead, so 1,000 calls take a handful of
    /// statements and the row is never more than two blocks ahead of the calls.
    @Test(.enabled(if: enabled))
    func aVeryLargeLimitNeedsOneStatementPerHundredsOfCalls() async throws {
        try await Self.withDatabase { database in
            let counters = SharedRateCounters(database: database)
            let window = RateWindow(model: "m-huge", caller: "user:huge", unit: .requests, spanMillis: 60_000, limit: 100_000)
            var admitted = 0
            for _ in 0..<1_000 where try await counters.leases.acquire([window], at: Self.time) == nil { admitted += 1 }
            #expect(admitted == 1_000)
            #expect(counters.leases.statements <= 1_000 / 256 + 2, "\(counters.leases.statements) statements")
            let leased = try await Self.used(window, at: Self.time, in: database)
            #expect(leased >= 1_000 && leased <= 1_000 + 2 * 256)
        }
    }

    /// A 10-per-minute limit is leased one permit at a time: nothing is held back, each call is exact.
    @Test(.enabled(if: enabled))
    func aSmallLimitIsLeasedOnePermitAtATime() async throws {
        try await Self.withDatabase { database in
            let first = SharedRateCounters(database: database)
            let second = SharedRateCounters(database: database)
            let window = RateWindow(model: "m-small", caller: "user:small", unit: .requests, spanMillis: 60_000, limit: 10)
            var admitted = 0
            for index in 0..<30 {
                guard try await (index % 2 == 0 ? first : second).admit([window], at: Self.time) == nil else { continue }
                admitted += 1
                #expect(try await Self.used(window, at: Self.time, in: database) == Int64(admitted))
            }
            #expect(admitted == 10)
            #expect(first.leases.available(window, at: Self.time) == 0 && second.leases.available(window, at: Self.time) == 0)
        }
    }

    /// A call refused by the hour window takes no permit of the minute window: what was leased for
    /// the minute stays in this instance's block.
    @Test(.enabled(if: enabled))
    func aCallRefusedByOneWindowTakesNoPermitOfAnother() async throws {
        try await Self.withDatabase { database in
            let counters = SharedRateCounters(database: database)
            let minute = RateWindow(model: "m-multi", caller: "user:multi", unit: .requests, spanMillis: 60_000, limit: 100)
            let hour = RateWindow(model: "m-multi", caller: "user:multi", unit: .requests, spanMillis: 3_600_000, limit: 3)
            var refusals: [RateRefusal] = []
            for _ in 0..<6 {
                if let refusal = try await counters.admit([minute, hour], at: Self.time) { refusals.append(refusal) }
            }
            #expect(refusals.count == 3 && refusals.allSatisfy { $0.window.spanMillis == 3_600_000 })
            #expect(try await Self.used(hour, at: Self.time, in: database) == 3)
            let leased = try await Self.used(minute, at: Self.time, in: database)
            #expect(leased >= 3 && counters.leases.available(minute, at: Self.time) == Int(leased) - 3)
        }
    }

    /// Settled tokens are kept in memory and written by one batched statement per sync; the other
    /// instance reads the shared row before its first check of the window and refuses.
    @Test(.enabled(if: enabled))
    func tokensAreWrittenInBatchesAndSeenByTheOtherInstance() async throws {
        try await Self.withDatabase { database in try await Self.writeTokensInBatches(database) }
    }

    static func writeTokensInBatches(_ database: Database) async throws {
        let first = SharedRateCounters(database: database)
        let second = SharedRateCounters(database: database)
        let window = RateWindow(model: "m-tokens", caller: "user:tokens", unit: .tokens, spanMillis: 60_000, limit: 500)
        for _ in 0..<50 {
            let refusal = try await first.admit([window], at: time)
            #expect(refusal == nil)
            first.add(tokens: 10, to: [window], at: time)
        }
        let ownRefusal = try await first.admit([window], at: time)
        #expect(ownRefusal?.window.unit == .tokens, "its own unwritten tokens count")
        #expect(first.tokens.writes == 0 && first.tokens.reads == 1, "one read for the window, no statement per call")
        #expect(try await used(window, at: time, in: database) == 0)
        let wrote = try await first.sync(at: time + 200)
        #expect(wrote && first.tokens.writes == 1)
        #expect(try await used(window, at: time, in: database) == 500)
        let otherRefusal = try await second.admit([window], at: time + 300)
        #expect(otherRefusal?.window.unit == .tokens)
    }

    /// The limiter's service writes settled tokens in the background, in far fewer statements than calls.
    @Test(.enabled(if: enabled))
    func theLimiterServiceWritesSettledTokensWithinItsInterval() async throws {
        try await Self.withDatabase { database in
            let limiter = RateLimiter(database: database, settings: TrafficSettings(), logger: TestApp.logger)
            limiter.arm()
            let windows = [
                RateWindow(model: "m-service", caller: "user:service", unit: .tokens, spanMillis: 86_400_000, limit: 1_000_000),
                RateWindow(model: "m-service", caller: "user:service", unit: .requests, spanMillis: 86_400_000, limit: 1_000_000),
            ]
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await limiter.run() }
                for _ in 0..<50 {
                    try await limiter.admit(windows, modelName: "m-service")
                    limiter.settle(tokens: 10, windows: windows)
                }
                let time = Clock.nowMillis()
                let written = try await eventually(timeout: .seconds(30)) { try await Self.used(windows[0], at: time, in: database) == 500 }
                #expect(written != nil)
                let writes = try #require(limiter.shared).tokens.writes
                #expect(writes < 25, "\(writes) writes for 50 settlements")
                #expect(try #require(limiter.shared).leases.statements < 5)
                #expect(try #require(limiter.instances).count == 1 && limiter.mode == "shared")
                group.cancelAll()
            }
        }
    }

    /// Callers a service token invents never grow the leased blocks past their cap.
    @Test(.enabled(if: enabled))
    func leasedBlocksInMemoryAreBounded() async throws {
        try await Self.withDatabase { database in
            let leases = RateLeases(database: database, capacity: 16)
            for index in 0..<100 {
                let window = RateWindow(model: "m-bound", caller: "caller-\(index)", unit: .requests, spanMillis: 60_000, limit: 1_000)
                let refusal = try await leases.acquire([window], at: Self.time)
                #expect(refusal == nil)
            }
            #expect(leases.count <= 16)
        }
    }

    /// Token windows settled in memory never grow past their cap either (no database is touched by `add`).
    @Test func tokenTalliesInMemoryAreBounded() async throws {
        let location = try DatabaseLocation.parse(try await TestDatabase.sqlite.makeURL(), dataDirectory: "/tmp")
        let database = try await Database.open(location, logger: TestApp.logger)
        try await database.withRunning { database in
            let tallies = SharedTokenTallies(database: database, capacity: 16)
            for index in 0..<1_000 {
                let window = RateWindow(model: "m-bound", caller: "caller-\(index)", unit: .tokens, spanMillis: 60_000, limit: 1_000)
                tallies.add(tokens: 10, to: [window], at: Self.time)
            }
            #expect(tallies.count <= 16)
        }
    }
}
