import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The usage insert writes every field of a record as it is, on both databases, and skips ids already written:
/// every report, export and invoice comparison reads these columns.
@Suite struct UsageRowsInsertTests {
    /// Records whose every field varies, with awkward strings and costs across the double range.
    static func records() -> [UsageRecord] {
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            seed ^= seed << 13
            seed ^= seed >> 7
            seed ^= seed << 17
            return seed
        }
        let awkward = ["quote \" and backslash \\", "new\nline\ttab\r", "bell \u{07} escape \u{1B}", "é ü 漢字 😀", "\u{2028}\u{2029}", "/slash/", ""]
        return (0..<1_200).map { index in
            var record = UsageRecord(
                userId: index % 9 == 0 ? nil : "user-\(index % 5) \(awkward[index % awkward.count])", tokenId: index % 2 == 0 ? nil : "token-\(index)",
                model: "m/\(awkward[(index + 1) % awkward.count])", provider: ProviderKind.allCases[index % ProviderKind.allCases.count],
                status: [200, 429, 502, 499][index % 4])
            record.at = Int64(bitPattern: next() >> 1) % 4_000_000_000_000
            record.keyId = index % 3 == 0 ? nil : "key-\(index)"
            record.keySource = ["user", "team", "shared", "env", nil][index % 5]
            record.teamId = index % 4 == 0 ? nil : "team-\(index % 3)"
            record.deploymentId = index % 6 == 0 ? nil : "dep-\(index % 7)"
            record.promptTokens = Int(next() % 2_000_000_000)
            record.completionTokens = Int(next() % 1_000_000)
            record.cacheReadTokens = Int(next() % 1_000)
            record.cacheWriteTokens = Int(next() % 1_000)
            record.cacheWrite1hTokens = Int(next() % 1_000)
            record.reasoningTokens = Int(next() % 1_000)
            // Any finite non-negative double: random bit patterns (subnormals included), then prices' usual sizes.
            let bits = Double(bitPattern: next() >> 2)
            record.cost = index % 2 == 0 ? min(bits, 1_000_000_000) : Double(next() % 10_000_000) / 1e9 * 3
            record.priced = index % 7 != 0
            record.latencyMs = Int(next() % 600_000)
            record.streamed = index % 2 == 1
            record.errorCode = index % 4 == 0 ? nil : "upstream_\(awkward[index % awkward.count])"
            record.requestId = "req-\(index)-\(awkward[(index + 3) % awkward.count])"
            record.attempts = Int(next() % 5)
            record.usageEstimated = index % 5 == 0
            record.requestedModel = index % 8 == 0 ? nil : "asked/\(index)"
            return record.bounded()
        }
    }

    @Test(arguments: TestDatabase.available)
    func everyFieldOfARecordIsStoredAsItIs(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { _, components in
            let records = Self.records()
            let inserted = try await components.database.transaction { sql in
                try await UsageRecorder.insertRows(records, dialect: components.database.dialect, on: sql)
            }
            #expect(inserted.count == records.count)
            // Again, with one new record: only the new one goes in.
            let extra = {
                var record = records[0]
                record.id = RandomIdentifier.timeOrderedUUID()
                return record
            }()
            let again = try await components.database.transaction { sql in
                try await UsageRecorder.insertRows(records + [extra], dialect: components.database.dialect, on: sql)
            }
            #expect(again.map(\.id) == [extra.id])

            let rows = try await components.database.run { sql in
                try await sql.raw("SELECT \(unsafeRaw: UsageRowsInsert.columns.joined(separator: ", ")) FROM usage_records").all()
            }
            var stored: [String: UsageRecord] = [:]
            for row in rows {
                var record = UsageRecord(userId: nil, tokenId: nil, model: "", provider: .openai, status: 0)
                record.id = try row.decode(column: "id", as: String.self)
                record.at = try row.decode(column: "at", as: Int64.self)
                record.userId = try row.decode(column: "user_id", as: String?.self)
                record.tokenId = try row.decode(column: "token_id", as: String?.self)
                record.model = try row.decode(column: "model", as: String.self)
                record.provider = try #require(ProviderKind(rawValue: try row.decode(column: "provider", as: String.self)))
                record.keyId = try row.decode(column: "key_id", as: String?.self)
                record.keySource = try row.decode(column: "key_source", as: String?.self)
                record.promptTokens = try row.decode(column: "prompt_tokens", as: Int.self)
                record.completionTokens = try row.decode(column: "completion_tokens", as: Int.self)
                #expect(try row.decode(column: "total_tokens", as: Int.self) == record.totalTokens)
                record.cost = try row.decode(column: "cost", as: Double.self)
                record.latencyMs = try row.decode(column: "latency_ms", as: Int.self)
                record.status = try row.decode(column: "status", as: Int.self)
                record.streamed = try row.decode(column: "streamed", as: Bool.self)
                record.errorCode = try row.decode(column: "error_code", as: String?.self)
                record.requestId = try row.decode(column: "request_id", as: String?.self)
                record.attempts = try row.decode(column: "attempts", as: Int.self)
                record.usageEstimated = try row.decode(column: "usage_estimated", as: Bool.self)
                record.requestedModel = try row.decode(column: "requested_model", as: String?.self)
                record.cacheReadTokens = try row.decode(column: "cache_read_tokens", as: Int.self)
                record.cacheWriteTokens = try row.decode(column: "cache_write_tokens", as: Int.self)
                record.cacheWrite1hTokens = try row.decode(column: "cache_write_1h_tokens", as: Int.self)
                record.reasoningTokens = try row.decode(column: "reasoning_tokens", as: Int.self)
                record.priced = try row.decode(column: "priced", as: Bool.self)
                record.deploymentId = try row.decode(column: "deployment_id", as: String?.self)
                record.teamId = try row.decode(column: "team_id", as: String?.self)
                stored[record.id] = record
            }
            #expect(stored.count == records.count + 1)
            var mismatches: [String] = []
            for record in records + [extra] {
                guard let read = stored[record.id] else {
                    mismatches.append("\(record.id) missing")
                    continue
                }
                if read != record { mismatches.append("wrote \(record)\nread  \(read)") }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) records differ; first: \(mismatches.first ?? "")")

            // Stored with the columns' own types on SQLite too: reports sum them as numbers, not text.
            if components.database.dialect == .sqlite {
                let types = try await components.database.run { sql in
                    try await sql.raw("SELECT DISTINCT typeof(cost) || ' ' || typeof(at) || ' ' || typeof(streamed) AS types FROM usage_records").all()
                }
                #expect(try types.map { try $0.decode(column: "types", as: String.self) } == ["real integer integer"])
            }
        }
    }
}
