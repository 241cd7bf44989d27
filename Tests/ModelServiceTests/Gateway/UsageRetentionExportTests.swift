import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `USAGE_RETENTION_DAYS` prunes records and keeps the rollups; `GET /api/usage/export` streams the
/// records page by page as CSV or JSON lines, to whoever may see them.
@Suite struct UsageRetentionExportTests {
    static let day: Int64 = 86_400_000

    @Test(arguments: TestDatabase.available)
    func retentionPrunesRecordsAndReportsStillCountThem(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false", "USAGE_RETENTION_DAYS": "30"]) { _, components in
            let today = Clock.nowMillis() / Self.day * Self.day
            var records: [UsageRecord] = []
            for index in 0..<(UsagePruner.batchRows + 700) {
                var record = UsageRecord(userId: "old", tokenId: nil, model: "m", provider: .openai, status: 200)
                record.at = today - 40 * Self.day + Int64(index)
                record.promptTokens = 3
                record.cost = 0.5
                records.append(record)
            }
            for index in 0..<50 {
                var record = UsageRecord(userId: "new", tokenId: nil, model: "m", provider: .openai, status: 200)
                record.at = today - 2 * Self.day + Int64(index)
                record.cost = 0.25
                records.append(record)
            }
            try await UsageRollupTests.write(records, to: components.database)
            let pruner = try #require(components.configuration.usageRetentionDays.map {
                UsagePruner(database: components.database, retentionDays: $0, logger: TestApp.logger)
            })
            // More than one batch's worth, deleted by this run, unless the service's own pruner (a minute after start)
            // got to some of them first on a slow machine; what is left below is the same either way.
            let deleted = await pruner.prune(now: Clock.nowMillis())
            #expect(deleted <= UsagePruner.batchRows + 700)
            let left = try await components.database.run { sql in
                try await sql.raw("SELECT user_id FROM usage_records").all().map { try $0.decode(column: "user_id", as: String.self) }
            }
            #expect(left.count == 50 && Set(left) == ["new"])
            let report = try await UsageStore.report(
                database: components.database, fromMillis: today - 60 * Self.day, toMillis: today + Self.day, userId: nil, groupBy: .user)
            let byUser = Dictionary(uniqueKeysWithValues: report.groups.map { ($0.key, $0.totals) })
            #expect(byUser["old"]?.requests == UsagePruner.batchRows + 700 && byUser["new"]?.requests == 50)
            #expect(abs((byUser["old"]?.cost ?? 0) - Double(UsagePruner.batchRows + 700) * 0.5) < 1e-6)
        }
    }

    @Test func aRetentionOutsideItsRangeIsRefusedAtStart() {
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: ["USAGE_RETENTION_DAYS": "-3"]) }
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: ["USAGE_RETENTION_DAYS": "99999999999999"]) }
        #expect((try? AppConfiguration(environment: ["USAGE_RETENTION_DAYS": "0"]))?.usageRetentionDays == nil)
        #expect((try? AppConfiguration(environment: ["USAGE_RETENTION_DAYS": "90"]))?.usageRetentionDays == 90)
    }

    @Test(arguments: TestDatabase.available)
    func theExportStreamsEveryRecordOfTheRangeAsCSVOrJSONLines(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            let start = Clock.nowMillis() / Self.day * Self.day - 3 * Self.day
            var records: [UsageRecord] = []
            // More than two pages, many records sharing one millisecond (the keyset pages on at and id).
            for index in 0..<(2 * UsageExport.pageRows + 345) {
                var record = UsageRecord(userId: index % 2 == 0 ? "ann" : "=cmd|' /C calc'!A0, \"x\"", tokenId: nil, model: "m/1", provider: .openai, status: 200)
                record.at = start + Int64(index / 10)
                record.promptTokens = index
                record.cost = 0.001
                records.append(record)
            }
            var outside = UsageRecord(userId: "ann", tokenId: nil, model: "m/1", provider: .openai, status: 200)
            outside.at = start - 1
            try await UsageRollupTests.write(records + [outside], to: components.database)
            let from = Clock.iso8601(millis: start)
            let to = Clock.iso8601(millis: start + Self.day)

            let csv = try await client.call(.get, "/api/usage/export?from=\(from)&to=\(to)&format=csv")
            #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.body.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(lines.first.map(String.init) == UsageExport.columns.joined(separator: ","))
            #expect(lines.count == records.count + 1)
            #expect(csv.body.contains("\"'=cmd|' /C calc'!A0, \"\"x\"\"\""), "a formula is defused and the field quoted")

            let jsonl = try await client.call(.get, "/api/usage/export?from=\(from)&to=\(to)&format=jsonl")
            #expect(jsonl.status == .ok && jsonl.headers[.contentType] == "application/x-ndjson")
            let objects = try jsonl.body.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == records.count)
            #expect(Set(objects.compactMap { $0?["id"] as? String }) == Set(records.map(\.id)), "every record once")
            let times = objects.compactMap { ($0?["at"] as? String).flatMap(Clock.parseISO8601) }
            #expect(times.count == records.count && zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
            // The first ten records share the range's first millisecond.
            #expect(((objects.first??["prompt_tokens"] as? Int) ?? 99) < 10 && (objects.first??["cost"] as? Double) == 0.001)

            let ann = try await VaultAPI.token(client, role: "user", userId: "ann")
            let own = try await client.call(.get, "/api/usage/export?from=\(from)&to=\(to)&format=jsonl", token: ann)
            #expect(own.status == .ok && own.body.split(separator: "\n").count == records.count / 2 + 1)
            #expect(try await client.call(.get, "/api/usage/export?userId=bob&format=jsonl", token: ann).status == .forbidden)
            let bad = try await client.call(.get, "/api/usage/export?format=xml")
            #expect(bad.status == .badRequest && bad.body.contains("format"))
            #expect(try await client.call(.get, "/api/usage/export", token: nil).status == .unauthorized)
        }
    }
}
