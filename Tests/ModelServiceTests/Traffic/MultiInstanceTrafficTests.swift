import AsyncHTTPClient
import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Two instances on one PostgreSQL (runs when TEST_DATABASE_URL is set): limits and budgets hold across both.
@Suite struct MultiInstanceTrafficTests {
    static var enabled: Bool { TestDatabase.available.contains(.postgres) }

    /// Runs `test` with two live instances on one fresh PostgreSQL database, both in front of the same fakes.
    static func twoInstances(
        extra: [String: String] = [:],
        secondExtra: [String: String] = [:],
        _ test: @Sendable (_ ports: [Int], _ client: any TestClientProtocol, _ first: ServiceComponents, _ second: ServiceComponents) async throws -> Void
    ) async throws {
        let url = try await TestDatabase.postgres.makeURL()
        let shared = TrafficTest.environment.merging(extra) { _, new in new }
        try await GatewayHarness.run(databaseURL: url, extra: shared) { client, fakes, first in
            var environment = fakes.baseURLs.merging(GatewayHarness.envKeys(fakes)) { _, new in new }
            environment.merge(shared) { _, new in new }
            environment.merge(secondExtra) { _, new in new }
            environment["SEED_ON_START"] = "false"
            try await TestApp.run(databaseURL: url, extra: environment, live: true) { secondClient, second in
                try await test([try #require(client.port), try #require(secondClient.port)], client, first, second)
            }
        }
    }

    static func chat(port: Int, model: String, user: String) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(TestApp.adminToken)")
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-user-id", value: user)
        request.body = .bytes(ByteBuffer(string: GatewayHarness.chatBody(model: model, stream: false, extra: #", "max_tokens": 5"#)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// Fixed windows: start well inside a minute so the 30 calls all fall in one window.
    static func awayFromAMinuteBoundary() async throws {
        let second = Int(Date().timeIntervalSince1970) % 60
        if second > 45 { try await Task.sleep(for: .seconds(61 - second)) }
    }

    @Test(.enabled(if: enabled))
    func aTenPerMinuteLimitAdmitsExactlyTenOfThirtyCallsOverTwoInstances() async throws {
        try await Self.twoInstances { ports, client, _, second in
            let model = GatewayHarness.modelName(.openai)
            #expect(try await client.call(.patch, "/api/models/\(model)", json: #"{"rateLimitPerMinute": 10}"#).status == .ok)
            let seen = try await eventually(timeout: .seconds(30)) { second.registry.model(named: model)?.rateLimitPerMinute == 10 }
            #expect(seen != nil)
            try await Self.awayFromAMinuteBoundary()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<30 {
                    group.addTask { try await Self.chat(port: ports[index % 2], model: model, user: "shared-user") }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 10)
            #expect(statuses.filter { $0 == 429 }.count == 20)
        }
    }

    /// One call costs 5 × 1.5 / 1000 + 5 × 2 / 1000 = 0.0175 USD; the budget is worth five of them.
    @Test(.enabled(if: enabled))
    func fiftyConcurrentCallsSpendNoMoreThanTheBudgetPlusOneCall() async throws {
        try await Self.twoInstances { ports, client, first, second in
            let callCost = 0.0175
            let budget = 5 * callCost
            let created = try await client.call(.post, "/api/budgets", json: #"{"userId": "spender", "period": "day", "maxCost": \#(budget)}"#)
            #expect(created.status == .created)
            let seen = try await eventually(timeout: .seconds(30)) { !second.traffic.budgets.budgets(userId: "spender", tokenId: "-").isEmpty }
            #expect(seen != nil)
            let model = GatewayHarness.modelName(.openai)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<50 {
                    group.addTask { try await Self.chat(port: ports[index % 2], model: model, user: "spender") }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
            #expect(statuses.contains(200))
            await second.usage.flush()
            let spent = try await TrafficTest.usageRows(first).filter { $0.status == 200 }.map(\.cost).reduce(0, +)
            #expect(spent > 0)
            #expect(spent <= budget + callCost + 1e-9, "spent \(spent) of a budget of \(budget)")
            let after = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(try decodeJSON(Budget.self, created.body).id)").body)
            #expect(abs(after.spent - spent) < 1e-9 && after.reserved < 1e-9)
        }
    }

    /// The issue's case: a $-budget worth five calls is created on one instance and 24 calls arrive at
    /// once on both right after. Polling is slowed to a minute, so only `NOTIFY` can carry the budget to
    /// the second instance, and the creating call answers once both enforce it.
    @Test(.enabled(if: enabled))
    func aBudgetCreatedOnOneInstanceHoldsOnBothFromTheFirstCallAfter() async throws {
        let slowPolls = ["CHANGE_POLL_MS": "60000", "CHANGE_FULL_RELOAD_SECONDS": "600"]
        try await Self.twoInstances(extra: slowPolls) { ports, client, first, second in
            #expect(try await eventually(timeout: .seconds(10)) { first.traffic.limiter.instances?.count == 2 } != nil)
            let callCost = 0.0175
            let budget = 5 * callCost
            let created = try await client.call(.post, "/api/budgets", json: #"{"userId": "burst", "period": "day", "maxCost": \#(budget)}"#)
            #expect(created.status == .created)
            #expect(!second.traffic.budgets.budgets(userId: "burst", tokenId: "-").isEmpty, "the second instance enforces it on the answer")
            let model = GatewayHarness.modelName(.openai)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<24 {
                    group.addTask { try await Self.chat(port: ports[index % 2], model: model, user: "burst") }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 } && statuses.contains(429))
            await second.usage.flush()
            await second.traffic.budgets.flush()
            await first.traffic.budgets.flush()
            let id = try decodeJSON(Budget.self, created.body).id
            let since = Clock.millis(from: try #require(Clock.parseISO8601(try decodeJSON(Budget.self, created.body).createdAt)))
            let recorded = try await LateBudgetChargeTests.recorded(first, user: "burst", since: since)
            #expect(recorded.cost <= budget + callCost + 1e-9, "spent \(recorded.cost) of a budget of \(budget)")
            let after = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(id)").body)
            #expect(abs(after.spent - recorded.cost) < 1e-9, "spent \(after.spent), records \(recorded.cost)")
        }
    }

    /// An instance that cannot hear the change (no `LISTEN`, a minute between polls) admits calls the
    /// budget would refuse; they are still charged to it, so `spent` is the records' sum.
    @Test(.enabled(if: enabled))
    func callsALaggingInstanceAdmittedAreChargedToTheBudget() async throws {
        let deaf = ["CHANGE_LISTEN": "false", "CHANGE_POLL_MS": "60000", "CHANGE_FULL_RELOAD_SECONDS": "600"]
        try await Self.twoInstances(secondExtra: deaf) { ports, client, first, second in
            let created = try await client.call(.post, "/api/budgets", json: #"{"userId": "lag", "period": "day", "maxCost": 0.02}"#)
            #expect(created.status == .created)
            #expect(second.traffic.budgets.budgets(userId: "lag", tokenId: "-").isEmpty, "the second instance has not heard of it")
            let model = GatewayHarness.modelName(.openai)
            for _ in 0..<4 { #expect(try await Self.chat(port: ports[1], model: model, user: "lag") == 200) }
            await second.usage.flush()
            let budget = try decodeJSON(Budget.self, created.body)
            let since = Clock.millis(from: try #require(Clock.parseISO8601(budget.createdAt)))
            let recorded = try await LateBudgetChargeTests.recorded(first, user: "lag", since: since)
            let after = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(recorded.cost > 0.05)
            #expect(abs(after.spent - recorded.cost) < 1e-9, "spent \(after.spent), records \(recorded.cost)")
            #expect(after.remaining == 0)
        }
    }

    /// `LIMITS_WHEN_DB_DOWN=local` with two instances alive: once PostgreSQL is gone, each instance
    /// enforces its share of a 10-per-hour limit, 5, and `/api/health` says so. An hour window, so a
    /// slow machine (one call a second waits 2 s for the database) never sees the window turn.
    @Test(.enabled(if: enabled), .timeLimit(.minutes(10)))
    func withTheDatabaseGoneEachInstanceEnforcesItsShareOfALimit() async throws {
        try await Self.twoInstances(extra: ["DATABASE_TIMEOUT_SECONDS": "2", "LIMITS_WHEN_DB_DOWN": "local"]) { ports, client, first, second in
            let model = GatewayHarness.modelName(.openai)
            #expect(try await client.call(.patch, "/api/models/\(model)", json: #"{"rateLimitPerHour": 10}"#).status == .ok)
            let seen = try await eventually(timeout: .seconds(30)) { second.registry.model(named: model)?.rateLimitPerHour == 10 }
            #expect(seen != nil)
            // Both heartbeat rows are written at start; a beat each now makes both count two without waiting 5 s.
            await second.traffic.limiter.heartbeat()
            await first.traffic.limiter.heartbeat()
            #expect(first.traffic.limiter.instanceCount == 2)
            let secondOfHour = Int(Date().timeIntervalSince1970) % 3_600
            if secondOfHour > 3_480 { try await Task.sleep(for: .seconds(3_601 - secondOfHour)) }
            let url = try #require(first.configuration.environment["DATABASE_URL"])
            try await PostgresAdmin.cut(url)
            do {
                var statuses: [Int] = []
                for _ in 0..<8 { statuses.append(try await Self.chat(port: ports[0], model: model, user: "outage-user")) }
                #expect(statuses.filter { $0 == 200 }.count == 5, "\(statuses)")
                #expect(statuses.filter { $0 == 429 }.count == 3, "\(statuses)")
                let health = try await client.call(.get, "/api/health", token: nil)
                #expect(health.body.contains(#""limits":{"instances":2,"mode":"shared-down-local","whenDatabaseDown":"local"}"#), "\(health.body)")
            } catch {
                // Detached: a test stopped by its time limit is cancelled, and must still give the database back.
                await Task.detached { try? await PostgresAdmin.restore(url) }.value
                throw error
            }
            try await PostgresAdmin.restore(url)
        }
    }
}
