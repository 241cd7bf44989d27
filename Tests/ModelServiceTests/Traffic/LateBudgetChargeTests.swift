import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A budget counts every call that settles after its creation, even one admitted by an instance that
/// had not loaded it yet: `spent` is the sum of those calls' usage records.
@Suite struct LateBudgetChargeTests {
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

    /// The budget's row is written behind the instance's back (as another instance would), so the calls
    /// that follow are admitted without it; they are charged to it when their records are written.
    @Test(arguments: TestDatabase.available)
    func callsAdmittedBeforeTheInstanceLoadedABudgetAreChargedToIt(database: TestDatabase) async throws {
        let environment = TrafficTest.environment.merging(["CHANGE_POLL_MS": "60000", "USAGE_FLUSH_MS": "60000"]) { _, new in new }
        try await GatewayHarness.run(database: database, extra: environment) { client, _, components in
            let model = GatewayHarness.modelName(.openai)
            #expect(try await TrafficTest.chat(client, model: model, user: "late").status == .ok)
            await components.usage.flush()
            try await Task.sleep(for: .milliseconds(5))

            let budget = try await BudgetRows.insert(
                .init(userId: "late", period: .day, maxCost: 100, softThreshold: 0.8), database: components.database)
            #expect(components.traffic.budgets.budgets(userId: "late", tokenId: "-").isEmpty)
            for _ in 0..<3 { #expect(try await TrafficTest.chat(client, model: model, user: "late").status == .ok) }
            try await components.traffic.budgets.reload()
            await components.usage.flush()
            await components.traffic.budgets.flush()

            let since = Clock.millis(from: try #require(Clock.parseISO8601(budget.createdAt)))
            let recorded = try await Self.recorded(components, user: "late", since: since)
            let seen = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(recorded.cost > 0)
            #expect(abs(seen.spent - recorded.cost) < 1e-9, "spent \(seen.spent), records since creation \(recorded.cost)")
            #expect(seen.spentTokens == recorded.tokens)
            let everything = try await Self.recorded(components, user: "late", since: 0)
            #expect(everything.cost > recorded.cost, "the call before the budget is not charged to it")
        }
    }
}
