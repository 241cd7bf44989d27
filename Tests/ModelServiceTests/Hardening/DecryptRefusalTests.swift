import Foundation
import HTTPTypes
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Refused decrypts are cheap: limited per address (429) and aggregated in the audit log.
@Suite struct DecryptRefusalTests {
    @Test(arguments: TestDatabase.available)
    func twoThousandRefusalsAddAHandfulOfAuditRowsAndGet429s(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, components in
            let key = try await VaultAPI.store(client, userId: "alice", key: "sk-alice-0123456789abcdef")
            await components.decryptRefusals.flush(all: true)
            let before = try await Self.auditRows(components.database)
            var statuses: [Int: Int] = [:]
            var retryAfter: String?
            // Per minute window (of calls that began and ended in the same minute): calls and 401s.
            var windows: [Int64: (calls: Int, unauthorized: Int)] = [:]
            let firstMinute = Clock.nowMillis() / 60_000
            for index in 0..<2_000 {
                let startedMinute = Clock.nowMillis() / 60_000
                let answer = try await client.call(
                    .get, "/api/api-keys/probe-\(index)-\(String(repeating: "x", count: 200))/decrypt", token: nil,
                    headers: [HTTPField.Name("x-internal-secret")!: "wrong-\(index)"])
                statuses[Int(answer.status.code), default: 0] += 1
                if answer.status == .tooManyRequests { retryAfter = answer.headers[.retryAfter] }
                if Clock.nowMillis() / 60_000 == startedMinute {
                    windows[startedMinute, default: (0, 0)].calls += 1
                    if answer.status == .unauthorized { windows[startedMinute, default: (0, 0)].unauthorized += 1 }
                }
            }
            // One limit's worth of 401s per minute window, then 429s. A loaded machine may take more than a
            // minute, and a call across a minute's end counts in neither window here (at most one less).
            let limit = DecryptRefusals.defaultLimitPerMinute
            for (minute, window) in windows {
                #expect(window.unauthorized <= limit, "minute \(minute): \(window)")
                #expect(window.unauthorized >= min(limit, window.calls) - 1, "minute \(minute): \(window)")
            }
            #expect((statuses[401] ?? 0) <= limit * (windows.count + 1), "\(statuses)")
            #expect((statuses[429] ?? 0) == 2_000 - (statuses[401] ?? 0), "\(statuses)")
            #expect(retryAfter.flatMap(Int.init).map { (1...60).contains($0) } == true)
            // Every minute the calls touched (a loaded machine may take several) holds at most one row per address.
            let minutesSpanned = Int(Clock.nowMillis() / 60_000 - firstMinute + 1)

            await components.decryptRefusals.flush(all: true)
            let rows = try await Self.auditRows(components.database).filter { row in !before.contains { $0.id == row.id } }
            #expect((1...minutesSpanned).contains(rows.count), "\(rows.count) rows over \(minutesSpanned) minutes")
            #expect(rows.map(\.count).reduce(0, +) == 2_000)
            #expect(rows.allSatisfy { $0.result == "denied" && $0.subjectType == "client" && !($0.detail ?? "").contains("probe-") })
            #expect(rows.allSatisfy { ($0.detail ?? "").utf8.count < 300 })

            _ = key
            let report = try await AuditChain.verify(database: components.database)
            #expect(report.intact, "\(report.problem ?? "")")
        }
    }

    @Test func theLimitIsPerAddressAndPerMinute() async throws {
        let components = try await TestApp.components(databaseURL: try await TestDatabase.sqlite.makeURL())
        try await components.withRunning { components in
            let refusals = DecryptRefusals(database: components.database, limitPerMinute: 3, logger: TestApp.logger)
            let minute: Int64 = 1_800_000_000_000 / 60_000 * 60_000
            for _ in 0..<3 { refusals.record(source: "10.0.0.1", keyId: "k", nowMillis: minute + 1_000) }
            #expect(refusals.retryAfter(source: "10.0.0.1", nowMillis: minute + 1_000) == 59)
            #expect(refusals.retryAfter(source: "10.0.0.2", nowMillis: minute + 1_000) == nil)
            #expect(refusals.retryAfter(source: "10.0.0.1", nowMillis: minute + 60_000) == nil)
        }
    }

    @Test func aHugeIdIsA400NotA500() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, _ in
            let answer = try await client.call(
                .get, "/api/api-keys/\(String(repeating: "a", count: 60_000))/decrypt", token: nil,
                headers: [HTTPField.Name("x-internal-secret")!: "wrong"])
            #expect(answer.status == .badRequest, "\(answer.status)")
            #expect(answer.body.contains("path"))
        }
    }

    @Test func aShortInternalSecretStopsTheStart() {
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: ["INTERNAL_SECRET": "only-twenty-chars-xx"]) }
        #expect(throws: Never.self) { try AppConfiguration(environment: ["INTERNAL_SECRET": String(repeating: "s", count: 32)]) }
    }

    static func auditRows(_ database: Database) async throws -> [AuditLog.Entry] {
        try await database.run { sql in try await sql.raw("SELECT * FROM audit_log WHERE action = 'decrypt'").all() }.map(AuditLog.Entry.init(row:))
    }
}
