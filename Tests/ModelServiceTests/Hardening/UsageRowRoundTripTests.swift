import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Every column of a usage record lands as it was recorded, whatever its text holds: the batched
/// insert (one JSON array of rows on SQLite, numbered binds on PostgreSQL) writes no value wrong.
@Suite struct UsageRowRoundTripTests {
    @Test(arguments: TestDatabase.available)
    func everyColumnRoundTrips(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["USAGE_FLUSH_MS": "600000", "SEED_ON_START": "false"]) { _, components in
            var full = UsageRecord(userId: #"al"ice\ ü ✓ 🚀"#, tokenId: "tok-1", model: "openai/gpt-4o-mini", provider: .anthropic, status: 424)
            full.keyId = "key-\u{7}bell"
            full.keySource = "user"
            full.promptTokens = 123_456
            full.completionTokens = 7
            full.cost = 0.000_012_5
            full.latencyMs = 42
            full.streamed = true
            full.errorCode = "provider_key_rejected"
            full.requestId = "req\ttab\nline"
            full.attempts = 3
            full.usageEstimated = true
            full.requestedModel = "fallback/\"quoted\""
            let sparse = UsageRecord(userId: nil, tokenId: nil, model: "m", provider: .ollama, status: 200)
            // More rows than one statement takes, so the batch is split.
            var many = (0..<(UsageRecorder.rowsPerStatement + 5)).map { index in
                var record = UsageRecord(userId: "u\(index)", tokenId: nil, model: "m", provider: .openai, status: 200)
                record.cost = Double(index) / 3
                return record
            }
            many.append(contentsOf: [full, sparse])
            for record in many { components.usage.record(record) }
            await components.usage.flush()

            let rows = try await components.database.run { sql in
                try await sql.raw("SELECT * FROM usage_records").all()
            }
            #expect(rows.count == many.count)
            let byId = try Dictionary(uniqueKeysWithValues: rows.map { (try $0.decode(column: "id", as: String.self), $0) })
            for record in many {
                let row = try #require(byId[record.id])
                #expect(try row.decode(column: "at", as: Int64.self) == record.at)
                #expect(try row.decode(column: "user_id", as: String?.self) == record.userId)
                #expect(try row.decode(column: "token_id", as: String?.self) == record.tokenId)
                #expect(try row.decode(column: "model", as: String.self) == record.model)
                #expect(try row.decode(column: "provider", as: String.self) == record.provider.rawValue)
                #expect(try row.decode(column: "key_id", as: String?.self) == record.keyId)
                #expect(try row.decode(column: "key_source", as: String?.self) == record.keySource)
                #expect(try row.decode(column: "prompt_tokens", as: Int.self) == record.promptTokens)
                #expect(try row.decode(column: "completion_tokens", as: Int.self) == record.completionTokens)
                #expect(try row.decode(column: "total_tokens", as: Int.self) == record.totalTokens)
                #expect(try row.decode(column: "cost", as: Double.self) == record.cost)
                #expect(try row.decode(column: "latency_ms", as: Int.self) == record.latencyMs)
                #expect(try row.decode(column: "status", as: Int.self) == record.status)
                #expect(try row.decode(column: "streamed", as: Bool.self) == record.streamed)
                #expect(try row.decode(column: "error_code", as: String?.self) == record.errorCode)
                #expect(try row.decode(column: "request_id", as: String?.self) == record.requestId)
                #expect(try row.decode(column: "attempts", as: Int.self) == record.attempts)
                #expect(try row.decode(column: "usage_estimated", as: Bool.self) == record.usageEstimated)
                #expect(try row.decode(column: "requested_model", as: String?.self) == record.requestedModel)
            }
        }
    }
}
