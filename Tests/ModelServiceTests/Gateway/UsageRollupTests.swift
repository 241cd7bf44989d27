import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Reports read hourly and daily rollups written with the records; they must say exactly what the
/// records say, for any range, on both databases. Retention prunes records and keeps the rollups;
/// the export streams the records themselves.
@Suite struct UsageRollupTests {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// Records at uneven times over four days (a fixed sequence, so every run checks the same ones).
    static func records(count: Int, start: Int64) -> [UsageRecord] {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int64) -> Int64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((seed >> 33) % UInt64(bound))
        }
        return (0..<count).map { index in
            var record = UsageRecord(
                userId: index % 7 == 0 ? nil : "user-\(index % 5)", tokenId: "token-\(index % 3)", model: "m/\(index % 4)",
                provider: index % 2 == 0 ? .openai : .anthropic, status: index % 11 == 0 ? 502 : 200)
            record.at = start + next(4 * day)
            record.promptTokens = Int(next(5_000))
            record.completionTokens = Int(next(900))
            record.cacheReadTokens = Int(next(100))
            record.cost = Double(next(100_000)) / 1_000_000
            record.priced = index % 13 != 0
            record.teamId = index % 4 == 0 ? nil : "team-\(index % 2)"
            return record
        }
    }

    static func write(_ records: [UsageRecord], to database: Database) async throws {
        try await database.transaction { sql in _ = try await UsageRecorder.insertRows(records, dialect: database.dialect, on: sql) }
    }

    /// The same report worked out from the records alone.
    static func fromRecords(
        _ database: Database, from: Int64, to: Int64, userId: String?, teamId: String? = nil, groupBy: UsageReport.Grouping?
    ) async throws -> [String: UsageReport.Totals] {
        let rows = try await database.run { sql in
            var query: SQLQueryString = "SELECT at, user_id, team_id, token_id, model, provider, prompt_tokens, completion_tokens, total_tokens, cost FROM usage_records WHERE at >= \(bind: from) AND at < \(bind: to)"
            if let userId { query = query + " AND user_id = \(bind: userId)" }
            if let teamId { query = query + " AND team_id = \(bind: teamId)" }
            if groupBy == .team { query = query + " AND team_id IS NOT NULL" }
            return try await sql.raw(query).all()
        }
        var groups: [String: UsageReport.Totals] = [:]
        for row in rows {
            let key: String
            switch groupBy {
            case nil: key = "all"
            case .model: key = try row.decode(column: "model", as: String.self)
            case .provider: key = try row.decode(column: "provider", as: String.self)
            case .user: key = try row.decode(column: "user_id", as: String?.self) ?? "(none)"
            case .team: key = try row.decode(column: "team_id", as: String?.self) ?? "(none)"
            case .token: key = try row.decode(column: "token_id", as: String?.self) ?? "(none)"
            case .day: key = String(Clock.iso8601(millis: try row.decode(column: "at", as: Int64.self) / day * day).prefix(10))
            }
            groups[key, default: .init(requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, cost: 0)].add(
                .init(
                    requests: 1, promptTokens: try row.decode(column: "prompt_tokens", as: Int.self),
                    completionTokens: try row.decode(column: "completion_tokens", as: Int.self),
                    totalTokens: try row.decode(column: "total_tokens", as: Int.self), cost: try row.decode(column: "cost", as: Double.self)))
        }
        return groups
    }

    static func expectSame(_ report: UsageReport, _ expected: [String: UsageReport.Totals], _ label: String) {
        let got = report.groupBy == nil ? ["all": report.totals].filter { $0.value.requests > 0 } : Dictionary(uniqueKeysWithValues: report.groups.map { ($0.key, $0.totals) })
        #expect(Set(got.keys) == Set(expected.keys), "\(label)")
        for (key, totals) in expected {
            guard let seen = got[key] else { continue }
            #expect(seen.requests == totals.requests && seen.promptTokens == totals.promptTokens && seen.totalTokens == totals.totalTokens, "\(label) \(key)")
            #expect(abs(seen.cost - totals.cost) < 1e-9, "\(label) \(key): \(seen.cost) vs \(totals.cost)")
        }
    }

    @Test func theSourcesOfARangeCoverEachInstantOnce() {
        let base: Int64 = 1_780_000_000_000 / Self.day * Self.day
        let ranges: [(Int64, Int64)] = [
            (base, base + 3 * Self.day), (base + 1, base + 3 * Self.day - 1), (base + 17 * 60_000, base + Self.hour - 5),
            (base - 90 * Self.day - 1_234_567, base + 7_654_321), (base + 5 * Self.hour, base + 29 * Self.hour), (base, base + Self.hour),
            (base + 10, base + 10), (-Self.day - 5, Self.day + 7),
        ]
        for (from, to) in ranges {
            var covered: [(Int64, Int64)] = []
            for source in UsageStore.sources(fromMillis: from, toMillis: to) {
                switch source {
                case .records(let a, let b): covered.append((a, b))
                case .rollup(let grain, let a, let b): covered.append((a * grain.millis, b * grain.millis))
                }
            }
            covered.sort { $0.0 < $1.0 }
            #expect(covered.allSatisfy { $0.0 < $0.1 }, "\(from)..<\(to): \(covered)")
            #expect(covered.first?.0 ?? from == from && covered.last?.1 ?? to == to, "\(from)..<\(to): \(covered)")
            #expect(zip(covered, covered.dropFirst()).allSatisfy { $0.1 == $1.0 }, "\(from)..<\(to): \(covered)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func reportsFromRollupsSayWhatTheRecordsSay(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { _, components in
            let start = Clock.nowMillis() / Self.day * Self.day - 5 * Self.day
            let records = Self.records(count: 900, start: start)
            try await Self.write(records, to: components.database)
            // Written twice (a retried batch): the rollups count each record once.
            try await Self.write(Array(records.prefix(300)), to: components.database)
            let ranges: [(Int64, Int64)] = [
                (start, start + 4 * Self.day), (start + 1_234_567, start + 3 * Self.day + 7_654_321), (start + Self.day + 60_000, start + Self.day + 120_000),
                (start + 5 * Self.hour + 17, start + 30 * Self.hour + 3), (start - Self.day, start + 10 * Self.day),
            ]
            for (from, to) in ranges {
                for grouping in [nil] + UsageReport.Grouping.allCases as [UsageReport.Grouping?] {
                    for (userId, teamId) in [(nil, nil), ("user-3", nil), (nil, "team-1"), ("user-3", "team-1")] as [(String?, String?)] {
                        let report = try await UsageStore.report(
                            database: components.database, fromMillis: from, toMillis: to, userId: userId, teamId: teamId, groupBy: grouping)
                        let expected = try await Self.fromRecords(components.database, from: from, to: to, userId: userId, teamId: teamId, groupBy: grouping)
                        Self.expectSame(
                            report, expected, "\(from - start)..<\(to - start) by \(grouping?.rawValue ?? "-") for \(userId ?? "all") in \(teamId ?? "any team")")
                    }
                }
            }
        }
    }

    /// The migration fills the rollups from records written before it; its statements build the same rows as the writer.
    @Test(arguments: TestDatabase.available)
    func theMigrationBackfillBuildsTheSameRollupsAsTheWriter(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { _, components in
            let start = Clock.nowMillis() / Self.day * Self.day - 5 * Self.day
            try await Self.write(Self.records(count: 400, start: start), to: components.database)
            func snapshot() async throws -> [String] {
                try await components.database.run { sql in
                    var lines: [String] = []
                    for family in UsageRollups.Family.allCases {
                        for grain in UsageRollups.Grain.allCases {
                            let table = family.table(grain)
                            let order = family.keyColumns.joined(separator: ", ")
                            for row in try await sql.raw("SELECT * FROM \(unsafeRaw: table) ORDER BY \(unsafeRaw: order)").all() {
                                let key = [String(try row.decode(column: "bucket", as: Int64.self))]
                                    + (try family.dimensions.map { try row.decode(column: $0, as: String.self) })
                                let sums = try UsageRollups.sumColumns.filter { $0 != "cost" }.map { String(try row.decode(column: $0, as: Int64.self)) }
                                let cost = String(format: "%.9f", try row.decode(column: "cost", as: Double.self))
                                lines.append(table + " " + (key + sums + [cost]).joined(separator: "|"))
                            }
                        }
                    }
                    return lines
                }
            }
            let written = try await snapshot()
            #expect(written.count > 100)
            let statements = UsageRollups.createStatements(UsageRollups.Family.allCases)
            try await components.database.transaction { sql in
                for family in UsageRollups.Family.allCases {
                    for grain in UsageRollups.Grain.allCases { try await sql.raw("DELETE FROM \(unsafeRaw: family.table(grain))").run() }
                }
                for statement in statements where statement.hasPrefix("INSERT") { try await sql.raw("\(unsafeRaw: statement)").run() }
            }
            #expect(try await snapshot() == written)
        }
    }
}
