import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Budget leases on PostgreSQL (runs when TEST_DATABASE_URL is set): each "instance" is its own
/// ``BudgetBook`` on one database. A budget with plenty of room is admitted from leased headroom
/// with a statement per many calls; the bound of "budget plus one call" holds across instances; a
/// crashed instance's lease and an edited budget's lease are handed back.
@Suite struct BudgetLeaseTests {
    static var enabled: Bool { TestDatabase.available.contains(.postgres) }

    /// Every call is estimated, and costs, one thousandth of a dollar.
    static let callCost = 0.001

    struct Row {
        var spent: Double
        var reserved: Double
        var leased: Double
    }

    static func row(_ id: String, in database: Database) async throws -> Row {
        try await database.run { sql in
            let row = try #require(
                try await sql.raw("""
                    SELECT spent_cost, reserved_cost, (SELECT COALESCE(SUM(cost), 0.0) FROM budget_leases WHERE budget_id = \(bind: id)) AS leased \
                    FROM budgets WHERE id = \(bind: id)
                    """).first())
            return Row(
                spent: try row.decode(column: "spent_cost", as: Double.self), reserved: try row.decode(column: "reserved_cost", as: Double.self),
                leased: try row.decode(column: "leased", as: Double.self))
        }
    }

    /// Two books (instances) on one database, the budget created on the first and loaded by both.
    static func twoBooks(maxCost: Double, in database: Database) async throws -> (books: [BudgetBook], budget: Budget) {
        let books = [
            BudgetBook(database: database, instanceId: "instance-a", logger: TestApp.logger),
            BudgetBook(database: database, instanceId: "instance-b", logger: TestApp.logger),
        ]
        let budget = try await books[0].create(userId: "leaser", tokenId: nil, period: .month, maxCost: maxCost, maxTokens: nil)
        try await books[1].reload()
        return (books, budget)
    }

    /// Reserves and settles one call at its estimate; nil when the budget refused it.
    static func call(_ book: BudgetBook) async throws -> [BudgetRows.Reservation]? {
        let limits = book.budgets(userId: "leaser", tokenId: "-")
        do {
            let reservations = try await book.reserve(limits, cost: callCost, tokens: 10, now: Clock.nowMillis())
            let inRows = book.settleInMemory(reservations, cost: callCost, tokens: 10)
            if !inRows.isEmpty { await book.settleShared(inRows, cost: callCost, tokens: 10) }
            return reservations
        } catch let error where error.kind == .budgetExceeded {
            return nil
        }
    }

    /// A budget worth 1,000 calls: 300 calls over two instances are all admitted on leases, with a
    /// handful of statements; once written and handed back the row holds exactly what they spent.
    @Test(.enabled(if: enabled))
    func aBudgetWithRoomIsAdmittedFromLeasesInAHandfulOfStatements() async throws {
        try await SharedLimitsTests.withDatabase { database in
            let (books, budget) = try await Self.twoBooks(maxCost: 1000 * Self.callCost, in: database)
            let leased = try await withThrowingTaskGroup(of: Int.self) { group in
                for book in books {
                    for _ in 0..<3 {
                        group.addTask {
                            var leased = 0
                            for _ in 0..<50 where try await Self.call(book)?.allSatisfy({ $0.lease != nil }) == true { leased += 1 }
                            return leased
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(leased >= 290, "\(leased) of 300 calls admitted on a lease")
            let statements = books.map(\.leaseStatements).reduce(0, +)
            #expect(statements <= 20, "\(statements) lease statements for 300 calls")
            // Not yet written: each instance shows its own spending on top of the row.
            let shown = try #require(try await BudgetRows.list(userId: "leaser", tokenId: nil, database: database).first)
            #expect(shown.reserved < 1e-9, "leased headroom is not shown as held by calls: \(shown.reserved)")
            let live = books.map { $0.current(shown).spent - shown.spent }.reduce(shown.spent, +)
            #expect(abs(live - 300 * Self.callCost) < 1e-9)
            // Two flushes at once (the service's loop and a shutdown) write each call's spending once.
            for book in books {
                async let first: Void = book.flush()
                async let second: Void = book.flush()
                _ = await (first, second)
                await book.ledger.finish()
            }
            let row = try await Self.row(budget.id, in: database)
            #expect(abs(row.spent - 300 * Self.callCost) < 1e-9, "spent \(row.spent)")
            #expect(row.reserved < 1e-9 && row.leased < 1e-9, "reserved \(row.reserved), leased \(row.leased) after handing back")
        }
    }

    /// A budget worth 200 calls, spent by ten callers over two instances until refused: leases while
    /// the room is large, the row near the end. Together they spend at most the budget plus one call,
    /// and all but what is left in a lease (less than a call per instance); the soft threshold is
    /// recorded once.
    @Test(.enabled(if: enabled))
    func leasesNeverSpendPastTheBudgetPlusOneCallOverTwoInstances() async throws {
        try await SharedLimitsTests.withDatabase { database in
            let budgetCost = 200 * Self.callCost
            let (books, budget) = try await Self.twoBooks(maxCost: budgetCost, in: database)
            let counts = try await withThrowingTaskGroup(of: (admitted: Int, leased: Int).self) { group in
                for book in books {
                    for _ in 0..<5 {
                        group.addTask {
                            var (admitted, leased) = (0, 0)
                            while let reservations = try await Self.call(book) {
                                admitted += 1
                                if reservations.allSatisfy({ $0.lease != nil }) { leased += 1 }
                            }
                            return (admitted, leased)
                        }
                    }
                }
                return try await group.reduce(into: (admitted: 0, leased: 0)) { $0.admitted += $1.admitted; $0.leased += $1.leased }
            }
            #expect(Double(counts.admitted) * Self.callCost <= budgetCost + Self.callCost + 1e-9, "\(counts.admitted) calls admitted")
            #expect(counts.admitted >= 197, "\(counts.admitted) calls admitted of a budget worth 200")
            #expect(counts.leased >= 100, "\(counts.leased) calls admitted on leases")
            for book in books { await book.ledger.finish() }
            let row = try await Self.row(budget.id, in: database)
            #expect(abs(row.spent - Double(counts.admitted) * Self.callCost) < 1e-9, "spent \(row.spent) for \(counts.admitted) calls")
            #expect(row.reserved < 1e-9 && row.leased < 1e-9)
            let audited = try await database.run { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'budget_threshold' AND detail LIKE \(bind: "%\(budget.id)%")")
                    .first()?.decode(column: "n", as: Int.self) ?? 0
            }
            #expect(audited == 1)
        }
    }

    /// An instance that dies holding a lease: once its heartbeat row is gone, another instance hands
    /// the lease back to the budget. The dead instance's late write still counts what it spent.
    @Test(.enabled(if: enabled))
    func aCrashedInstancesLeaseIsHandedBackByAnother() async throws {
        try await SharedLimitsTests.withDatabase { database in
            let (books, budget) = try await Self.twoBooks(maxCost: 1000 * Self.callCost, in: database)
            let reservations = try #require(try await Self.call(books[0]))
            #expect(reservations.first?.lease != nil)
            let held = try await Self.row(budget.id, in: database)
            #expect(held.reserved > 4 * Self.callCost && abs(held.leased - held.reserved) < 1e-9, "\(held)")
            // Its heartbeat row deleted as stale: the instance is gone for the others.
            try await database.run { sql in try await sql.raw("DELETE FROM traffic_instances WHERE instance_id = 'instance-a'").run() }
            await books[1].ledger.housekeeping()
            let reclaimed = try await Self.row(budget.id, in: database)
            #expect(reclaimed.reserved < 1e-9 && reclaimed.leased < 1e-9, "\(reclaimed)")
            await books[0].ledger.finish()
            let written = try await Self.row(budget.id, in: database)
            #expect(abs(written.spent - Self.callCost) < 1e-9 && written.reserved < 1e-9, "\(written)")
        }
    }

    /// An admin lowers the budget: the lease taken under the old maximum takes no new call and is
    /// handed back; the next call leases under the new maximum.
    @Test(.enabled(if: enabled))
    func anEditedBudgetsLeaseIsHandedBack() async throws {
        try await SharedLimitsTests.withDatabase { database in
            let (books, budget) = try await Self.twoBooks(maxCost: 1000 * Self.callCost, in: database)
            let first = try #require(try await Self.call(books[0]).flatMap(\.first?.lease))
            let fields = BudgetRows.Fields(userId: "leaser", tokenId: nil, period: .month, maxCost: 500 * Self.callCost, maxTokens: nil, softThreshold: 0.8)
            _ = try await BudgetRows.update(id: budget.id, fields, database: database)
            try await books[0].reload()
            let second = try #require(try await Self.call(books[0]).flatMap(\.first?.lease))
            #expect(second.generation == first.generation + 1)
            await books[0].ledger.flush()
            let row = try await Self.row(budget.id, in: database)
            // Only the new lease is held: at most an eighth of the new room.
            #expect(row.leased <= 500 * Self.callCost / 8 + 1e-9 && abs(row.leased - row.reserved) < 1e-9, "\(row)")
            #expect(abs(row.spent - 2 * Self.callCost) < 1e-9, "\(row)")
        }
    }
}
