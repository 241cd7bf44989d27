import FakeProviders
import Foundation
import HTTPTypes
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Traffic control on the call pipeline: every door is admitted and settled the same way, a failed
/// call gives its reservation back, and the SQLite budget ledger (in memory) reaches the database.
@Suite struct PipelineTrafficTests {
    @Test(arguments: TestDatabase.available)
    func limitsAndBudgetsApplyToTheEmbeddingsAndResponsesDoors(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, _ in
            let created = try await client.call(.post, "/api/models", json: """
                {"name": "traffic/embed", "provider": "openai", "modelId": "fake-embed", "mode": "embedding", "rateLimitPerDay": 2,
                 "inputCostPer1kTokens": 1, "outputCostPer1kTokens": 0}
                """)
            #expect(created.status == .created, "\(created.body)")
            let embed = #"{"model": "traffic/embed", "input": "one two three"}"#
            #expect(try await client.call(.post, "/v1/embeddings", json: embed).status == .ok)
            #expect(try await client.call(.post, "/v1/embeddings", json: embed).status == .ok)
            let limited = try await client.call(.post, "/v1/embeddings", json: embed)
            #expect(limited.status == .tooManyRequests && limited.body.contains("rate_limit_exceeded"), "\(limited.status) \(limited.body)")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)

            // A budget of one token: the first /v1/responses call is admitted, the next refused.
            let budget = try await client.call(.post, "/api/budgets", json: #"{"userId": "rae", "period": "day", "maxTokens": 1}"#)
            #expect(budget.status == .created)
            let model = GatewayHarness.modelName(.openai)
            let responses = #"{"model": "\#(model)", "input": "Hello responses", "stream": false, "user": "rae"}"#
            let first = try await client.call(.post, "/v1/responses", json: responses)
            #expect(first.status == .ok, "\(first.body)")
            let refused = try await client.call(.post, "/v1/responses", json: responses)
            #expect(refused.status == .tooManyRequests && refused.body.contains("budget_exceeded"), "\(refused.body)")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // The same budget holds on /v1/embeddings (another caller than the admin, so the model's limit has room).
            let embedRefused = try await client.call(.post, "/v1/embeddings", json: #"{"model": "traffic/embed", "input": "x", "user": "rae"}"#)
            #expect(embedRefused.status == .tooManyRequests && embedRefused.body.contains("budget_exceeded"), "\(embedRefused.body)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aFailedCallGivesItsReservationBack(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment.merging(["UPSTREAM_RETRIES": "0"]) { $1 }) { client, _, components in
            let down = try await TrafficTest.model(client, upstream: "down-reserve")
            let created = try decodeJSON(
                Budget.self, try await client.call(.post, "/api/budgets", json: #"{"userId": "fay", "period": "month", "maxTokens": 100000}"#).body)
            let failed = try await TrafficTest.chat(client, model: down, user: "fay")
            #expect(failed.status == .badGateway, "\(failed.body)")
            await components.traffic.settlementsWritten()
            let after = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(created.id)").body)
            #expect(after.reservedTokens == 0 && after.spentTokens == 0, "\(after)")
        }
    }

    /// SQLite: reservations and settlements stay in memory; the spending reaches `budgets` in a batch.
    @Test func theSQLiteLedgerIsWrittenInBatches() async throws {
        try await GatewayHarness.run(database: .sqlite, extra: TrafficTest.environment) { client, _, components in
            #expect(components.traffic.budgets.ledger is MemoryBudgetLedger)
            let budget = try decodeJSON(
                Budget.self, try await client.call(.post, "/api/budgets", json: #"{"userId": "gus", "period": "day", "maxTokens": 1000}"#).body)
            let model = GatewayHarness.modelName(.openai)
            for _ in 0..<3 { #expect(try await TrafficTest.chat(client, model: model, user: "gus").status == .ok) }
            let live = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(live.spentTokens == 30 && live.reservedTokens == 0)
            await components.traffic.budgets.flush()
            let stored = try await components.database.run { sql in
                try await sql.raw("SELECT spent_tokens, reserved_tokens FROM budgets WHERE id = \(bind: budget.id)").first()
            }
            #expect(try stored?.decode(column: "spent_tokens", as: Int.self) == 30)
            #expect(try stored?.decode(column: "reserved_tokens", as: Int.self) == 0)
            // A reload (another change to budgets) keeps what memory counted.
            _ = try await client.call(.post, "/api/budgets", json: #"{"userId": "hal", "period": "day", "maxTokens": 5}"#)
            #expect(try await TrafficTest.chat(client, model: model, user: "gus").status == .ok)
            let again = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(again.spentTokens == 40)
        }
    }
}
