import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The usage pages read aggregates by index and page the per-user table, so they stay fast at a
/// million rows; checked by the query plans (no timing) and by the pages themselves.
@Suite struct ConsoleUsageTests {
    typealias Page = ConsoleSecurityTests

    /// Writes `rows` records over the last ten days as the usage writer does: rows and rollups.
    static func seed(_ database: Database, rows: Int, users: Int) async throws {
        let day: Int64 = 86_400_000
        let now = Clock.nowMillis()
        let records = (0..<rows).map { index in
            var record = UsageRecord(userId: "user-\(index % users)", tokenId: nil, model: "m/\(index % 3)", provider: .openai, status: 200)
            record.at = now - Int64(index % 10) * day
            (record.promptTokens, record.completionTokens, record.cost) = (10, 5, 0.001)
            return record
        }
        try await database.transaction { sql in _ = try await UsageRecorder.insertRows(records, dialect: database.dialect, on: sql) }
    }

    @Test(arguments: TestDatabase.available)
    func theUsagePageChartsTablesPagesAndExports(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            try await Self.seed(components.database, rows: 1200, users: 60)
            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
            let page = try await Page.get(client, "/console/usage", cookie: browser.cookie)
            #expect(page.status == .ok)
            #expect(page.body.components(separatedBy: "<rect class=\"bar\"").count - 1 == 60)  // two charts of 30 days
            #expect(page.body.contains("<title>") && page.body.contains("m/0") && page.body.contains("user-1"))
            #expect(page.body.contains("Next users") && !page.body.contains("user-59<"))
            let next = try await Page.get(client, "/console/usage?page=2", cookie: browser.cookie)
            #expect(next.body.contains("user-59<") && next.body.contains("Previous users"))
            let csv = try await Page.get(client, "/console/usage.csv", cookie: browser.cookie)
            let lines = csv.body.split(separator: "\n")
            #expect(lines.count == 31 && lines[0] == "date,requests,prompt_tokens,completion_tokens,total_tokens,cost_usd")
            #expect(lines.last?.split(separator: ",")[1] == "120")
            #expect(csv.headers[.contentDisposition]?.contains("attachment") == true)
            let bad = try await Page.get(client, "/console/usage?from=2026-02-30x", cookie: browser.cookie)
            #expect(bad.status == .ok && bad.body.contains("There is a problem"))
        }
    }

    /// Every part of a report (records at the edges, hourly and daily rollups) is read by an index range.
    @Test func usageAggregatesReadByIndexNotByScanningTheTable() async throws {
        let components = try await TestApp.components(databaseURL: try await TestDatabase.sqlite.makeURL())
        try await components.withRunning { components in
            try await Migrations.run(on: components.database)
            // Edges inside hours and days, whatever the time of the run: records, hourly and daily rollups all read.
            let today = Clock.nowMillis() / 86_400_000 * 86_400_000
            let to = today + 5 * 3_600_000 + 17 * 60_000
            let from = today - 30 * 86_400_000 - 3 * 3_600_000 - 1_234
            for (userId, grouping) in [(nil, UsageReport.Grouping.day), (nil, .model), (nil, .user), ("user-1", .day)] as [(String?, UsageReport.Grouping)] {
                let query = UsageStore.query(fromMillis: from, toMillis: to, userId: userId, groupBy: grouping, limit: 10)
                let plan = try await components.database.run { sql in
                    try await sql.raw("EXPLAIN QUERY PLAN " + query).all().map { try $0.decode(column: "detail", as: String.self) }
                }.joined(separator: " | ")
                let family: UsageRollups.Family = userId != nil ? .detail : grouping == .user ? .users : .models
                for table in ["usage_records", family.table(.hour), family.table(.day)] {
                    #expect(plan.contains("SEARCH \(table) USING"), "\(table), \(grouping) \(userId ?? "all"): \(plan)")
                    #expect(!plan.contains("SCAN \(table)"), "\(table), \(grouping) \(userId ?? "all"): \(plan)")
                }
            }
        }
    }
}
