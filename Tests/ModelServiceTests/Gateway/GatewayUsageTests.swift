import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Usage records with tokens and cost for streamed and plain calls, and the `/api/usage` report.
@Suite struct GatewayUsageTests {
    @Test(arguments: TestDatabase.available)
    func callsAreRecordedWithTokensCostAndKeySource(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let user = try decodeJSON(
                AccessTokenTests.Created.self,
                try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "user-7"}"#).body)
            let model = GatewayHarness.modelName(.anthropic)
            #expect(try await client.call(.post, "/v1/chat/completions", token: user.token, json: GatewayHarness.chatBody(model: model, stream: false)).status == .ok)
            #expect(try await client.call(.post, "/v1/chat/completions", token: user.token, json: GatewayHarness.chatBody(model: model, stream: true)).status == .ok)
            // A service token names the user it calls for.
            let service = try decodeJSON(AccessTokenTests.Created.self, try await client.call(.post, "/api/tokens", json: #"{"role": "service"}"#).body)
            #expect(try await client.call(
                .post, "/v1/chat/completions", token: service.token, json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.gemini), stream: false),
                headers: [.init("X-User-Id")!: "user-8"]).status == .ok)
            // A failing call is recorded with its status.
            _ = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, "fake-error-500"), stream: false))
            await components.usage.flush()

            let rows = try await components.database.run { try await $0.raw("SELECT * FROM usage_records ORDER BY at").all() }
            #expect(rows.count == 4)
            let first = try #require(rows.first)
            #expect(try first.decode(column: "user_id", as: String?.self) == "user-7")
            #expect(try first.decode(column: "token_id", as: String?.self) == user.accessToken.id)
            #expect(try first.decode(column: "model", as: String.self) == model)
            #expect(try first.decode(column: "provider", as: String.self) == "anthropic")
            #expect(try first.decode(column: "key_source", as: String?.self) == "env")
            #expect(try first.decode(column: "prompt_tokens", as: Int.self) == 5)
            #expect(try first.decode(column: "completion_tokens", as: Int.self) == 5)
            #expect(try first.decode(column: "total_tokens", as: Int.self) == 10)
            // 5 × 1.5 / 1000 + 5 × 2 / 1000
            #expect(abs(try first.decode(column: "cost", as: Double.self) - 0.0175) < 1e-9)
            #expect(try first.decode(column: "status", as: Int.self) == 200)
            let streamed = rows[1]
            #expect(try streamed.decode(column: "streamed", as: Bool.self))
            #expect(try streamed.decode(column: "completion_tokens", as: Int.self) == 5)
            #expect(try rows[2].decode(column: "user_id", as: String?.self) == "user-8")
            #expect(try rows[3].decode(column: "status", as: Int.self) == 502)

            let all = try decodeJSON(UsageReport.self, try await client.call(.get, "/api/usage?groupBy=user").body)
            #expect(all.totals.requests == 4)
            #expect(all.groups.first { $0.key == "user-7" }?.totals.totalTokens == 20)
            let byModel = try decodeJSON(UsageReport.self, try await client.call(.get, "/api/usage?groupBy=model").body)
            #expect(abs((byModel.groups.first { $0.key == model }?.totals.cost ?? 0) - 0.035) < 1e-9)
            let byDay = try decodeJSON(UsageReport.self, try await client.call(.get, "/api/usage?groupBy=day").body)
            #expect(byDay.groups.count == 1 && byDay.groups[0].key.count == 10)

            // A user sees only its own usage.
            let mine = try decodeJSON(UsageReport.self, try await client.call(.get, "/api/usage", token: user.token).body)
            #expect(mine.totals.requests == 2 && mine.userId == "user-7")
            #expect(try await client.call(.get, "/api/usage?userId=user-8", token: user.token).status == .forbidden)
            #expect(try await client.call(.get, "/api/usage?groupBy=planet").status == .badRequest)
            #expect(try await client.call(.get, "/api/usage?from=yesterday").status == .badRequest)
        }
    }

    @Test func aUserTokenCannotCallForAnotherUser() async throws {
        try await GatewayHarness.run { client, _, _ in
            let user = try decodeJSON(
                AccessTokenTests.Created.self, try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "alice"}"#).body)
            let response = try await client.call(
                .post, "/v1/chat/completions", token: user.token, json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false),
                headers: [.init("X-User-Id")!: "bob"])
            #expect(response.status == .forbidden)
            let reserved = try await client.call(
                .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false),
                headers: [.init("X-User-Id")!: "@shared"])
            #expect(reserved.status == .badRequest && reserved.body.contains("X-User-Id"))
        }
    }
}

/// Records still buffered when the service stops are written on the way out, or, when the database
/// cannot take them in time (a loaded server), by the next start from the pending file.
@Suite struct UsageShutdownTests {
    @Test(arguments: TestDatabase.available)
    func aGracefulShutdownLosesNoRecord(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ms-data-\(UUID().uuidString)").path
        // A flush interval far longer than the test: only the shutdown can write these records.
        try await GatewayHarness.run(databaseURL: url, extra: ["USAGE_FLUSH_MS": "600000", "DATA_DIR": dataDirectory]) { client, _, components in
            for _ in 0..<25 {
                let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false))
                #expect(response.status == .ok)
            }
            #expect(components.usage.pendingCount == 25)
        }
        // The next start re-imports whatever the shutdown left in the pending file.
        let count = try await TestApp.run(databaseURL: url, extra: ["DATA_DIR": dataDirectory, "SEED_ON_START": "false"]) { _, components in
            try await components.database.run { try await $0.raw("SELECT COUNT(*) AS n FROM usage_records").first()?.decode(column: "n", as: Int.self) }
        }
        #expect(count == 25)
    }
}
