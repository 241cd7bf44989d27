import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A budget counts every call that settles after its creation, even one admitted by an instance that
/// had not loaded it yet: `spent` is the sum of those calls' usage records, for a user's budget and a
/// team's alike, and whether the records were written before or after the instance loaded it.
@Suite struct LateBudgetChargeTests {
    /// Nothing but the test moves budgets or usage: no poll, no notification, no full reload, no timed flush, however
    /// slowly a loaded machine runs the test.
    static let environment = TrafficTest.environment.merging([
        "CHANGE_POLL_MS": "600000", "CHANGE_LISTEN": "false", "CHANGE_FULL_RELOAD_SECONDS": "3600", "USAGE_FLUSH_MS": "600000",
    ]) { _, new in new }

    /// The usage of one user's records written at or after `since`: cost and tokens.
    static func recorded(_ components: ServiceComponents, user: String, since: Int64) async throws -> (cost: Double, tokens: Int) {
        await components.usage.flush()
        return try await components.database.run { sql in
            let row = try await sql.raw("""
                SELECT COALESCE(SUM(cost), 0) AS cost, CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS tokens FROM usage_records \
                WHERE user_id = \(bind: user) AND at >= \(bind: since)
                """).first()
            return (try row?.decode(column: "cost", as: Double.self) ?? 0, try row?.decode(column: "tokens", as: Int.self) ?? 0)
        }
    }

    /// The budgets' rows are written behind the instance's back (as another instance would), so the
    /// calls that follow are admitted without them. Two calls' records are written before the instance
    /// loads the budgets, one after; all three are charged to both.
    @Test(arguments: TestDatabase.available)
    func callsAdmittedBeforeTheInstanceLoadedABudgetAreChargedToIt(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: Self.environment) { client, _, components in
            let team = try await TeamTests.team(client, "Late", members: ["late": "member"])
            let model = GatewayHarness.modelName(.openai)
            #expect(try await TrafficTest.chat(client, model: model, user: "late").status == .ok)
            await components.usage.flush()
            try await Task.sleep(for: .milliseconds(5))

            let budgets = [
                try await BudgetRows.insert(.init(userId: "late", period: .day, maxCost: 100, softThreshold: 0.8), database: components.database),
                try await BudgetRows.insert(.init(teamId: team, period: .day, maxCost: 100, softThreshold: 0.8), database: components.database),
            ]
            #expect(components.traffic.budgets.budgets(userId: "late", tokenId: "-", teamId: team).isEmpty)
            for _ in 0..<2 { #expect(try await TrafficTest.chat(client, model: model, user: "late").status == .ok) }
            await components.usage.flush()
            try await components.traffic.budgets.reload()
            #expect(components.traffic.budgets.budgets(userId: "late", tokenId: "-", teamId: team).count == 2)
            #expect(try await TrafficTest.chat(client, model: model, user: "late").status == .ok)
            await components.usage.flush()
            await components.traffic.budgets.flush()

            for budget in budgets {
                let since = Clock.millis(from: try #require(Clock.parseISO8601(budget.createdAt)))
                let recorded = try await Self.recorded(components, user: "late", since: since)
                let seen = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
                #expect(recorded.tokens == 30, "three calls of 10 tokens since the budget's creation")
                #expect(abs(seen.spent - recorded.cost) < 1e-9, "\(budget.label): spent \(seen.spent), records since creation \(recorded.cost)")
                #expect(seen.spentTokens == recorded.tokens)
            }
            let everything = try await Self.recorded(components, user: "late", since: 0)
            #expect(everything.tokens == 40, "the call before the budgets is recorded but charged to neither")
        }
    }

    /// A late charge that takes a budget to its soft threshold records the crossing as a settlement does: the
    /// budget says when, and the audit has it once (the webhook event is queued in the same transaction).
    /// 20 of 25 tokens reach the 0.8 threshold.
    @Test(arguments: TestDatabase.available)
    func aLateChargeThatCrossesTheSoftThresholdIsRecorded(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: Self.environment) { client, _, components in
            let budget = try await BudgetRows.insert(
                .init(userId: "edge", period: .day, maxTokens: 25, softThreshold: 0.8), database: components.database)
            for _ in 0..<2 { #expect(try await TrafficTest.chat(client, model: GatewayHarness.modelName(.openai), user: "edge").status == .ok) }
            await components.usage.flush()
            try await components.traffic.budgets.reload()
            await components.traffic.budgets.flush()

            let seen = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(seen.spentTokens == 20)
            let recorded = try await eventually(timeout: .seconds(30)) {
                let audit = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit?action=budget_threshold").body)
                return audit.count == 1
            }
            #expect(recorded != nil, "no budget_threshold audit entry")
            await components.traffic.budgets.flush()
            let after = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(after.softThresholdReachedAt != nil)
        }
    }

    /// On SQLite a late charge for a budget this instance has not loaded waits in memory for it; a
    /// budget deleted meanwhile leaves nothing waiting once the instance reloads.
    @Test func aChargeOwedToABudgetDeletedBeforeItLoadedIsDropped() async throws {
        try await GatewayHarness.run(database: .sqlite, extra: Self.environment) { client, _, components in
            let ledger = try #require(components.traffic.budgets.ledger as? MemoryBudgetLedger)
            let budget = try await BudgetRows.insert(
                .init(userId: "gone", period: .day, maxCost: 100, softThreshold: 0.8), database: components.database)
            #expect(try await TrafficTest.chat(client, model: GatewayHarness.modelName(.openai), user: "gone").status == .ok)
            await components.usage.flush()
            #expect(ledger.owedBudgets == [budget.id])
            #expect(try await BudgetRows.delete(id: budget.id, database: components.database))
            try await Task.sleep(for: .milliseconds(2))
            try await components.traffic.budgets.reload()
            #expect(ledger.owedBudgets.isEmpty)
        }
    }
}
