import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Every change is audited in its own transaction, and the audit log is a hash chain that
/// `audit verify` checks (issue 11, "Audit every change").
@Suite struct AuditChainTests {
    struct Row: Equatable, CustomStringConvertible {
        var action: String
        var subject: String?
        var description: String { "\(action) \(subject ?? "-")" }
    }

    static func rows(_ database: Database) async throws -> [Row] {
        try await database.run { sql in
            try await sql.raw("SELECT action, subject_type FROM audit_log WHERE seq IS NOT NULL ORDER BY seq").all()
        }.map { Row(action: try $0.decode(column: "action", as: String.self), subject: try $0.decode(column: "subject_type", as: String?.self)) }
    }

    @Test(arguments: TestDatabase.available)
    func modelAndTokenChangesAreAuditedAndTheChainVerifies(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil)) { client, components in
            let created = try await client.call(.post, "/api/models", json: #"{"name": "audited", "provider": "openai", "modelId": "gpt-x"}"#)
            #expect(created.status == .created)
            #expect(try await client.call(.patch, "/api/models/audited", json: #"{"isActive": false}"#).status == .ok)
            #expect(try await client.call(.delete, "/api/models/audited").status == .noContent)
            let token = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "u-1", "name": "t"}"#)
            #expect(token.status == .created)
            struct Created: Decodable { struct Token: Decodable { var id: String }; var accessToken: Token }
            let tokenId = try decodeJSON(Created.self, token.body).accessToken.id
            #expect(try await client.call(.delete, "/api/tokens/\(tokenId)").status == .noContent)
            // A failed change leaves no entry.
            #expect(try await client.call(.patch, "/api/models/nope", json: #"{"isActive": false}"#).status == .notFound)

            let rows = try await Self.rows(components.database)
            #expect(rows == [
                Row(action: "create", subject: "model"), Row(action: "update", subject: "model"), Row(action: "delete", subject: "model"),
                Row(action: "create", subject: "token"), Row(action: "revoke", subject: "token"),
            ], "\(rows)")
            let details = try await components.database.run { sql in
                try await sql.raw("SELECT detail FROM audit_log WHERE seq = 2").first()?.decode(column: "detail", as: String?.self)
            }
            #expect(details == "model audited; changed isActive")
            let listed = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit").body)
            #expect(listed.count == 5 && listed.allSatisfy { $0.hash?.count == 64 })

            let report = try await AuditChain.verify(database: components.database)
            #expect(report.intact, "\(report.problem ?? "")")
            #expect(report.rows == 5)
        }
    }

    /// Edited, inserted and removed rows are each named; the real CLI exits 1 for them and 0 when intact.
    @Test(arguments: TestDatabase.available)
    func verifyNamesTheFirstAlteredInsertedOrRemovedRow(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil)) { client, components in
            for index in 0..<4 {
                #expect(try await client.call(.post, "/api/models", json: #"{"name": "m\#(index)", "provider": "openai", "modelId": "x"}"#).status == .created)
            }
            let db = components.database
            func id(seq: Int) async throws -> String {
                try await db.run { sql in
                    try #require(try await sql.raw("SELECT id FROM audit_log WHERE seq = \(bind: Int64(seq))").first()).decode(column: "id", as: String.self)
                }
            }
            func problem() async throws -> String { try await AuditChain.verify(database: db).problem ?? "" }
            #expect(try await problem() == "")

            // Edited: the row itself is named.
            let second = try await id(seq: 2)
            try await db.run { try await $0.raw("UPDATE audit_log SET detail = \(bind: "model innocent") WHERE seq = 2").run() }
            let found = try await problem()
            #expect(found.contains("seq 2 (id \(second)) was altered"), "\(found)")
            let cli = try await Self.verifyWithCLI(url)
            #expect(cli.status == 1 && cli.output.contains(second), "\(cli.output)")
            try await db.run { try await $0.raw("UPDATE audit_log SET detail = \(bind: "model m1") WHERE seq = 2").run() }
            #expect(try await problem() == "")

            // Removed from the middle: the row after the gap is named; removed from the end: the head says so.
            let third = try await id(seq: 3)
            let saved = try await db.run { try await $0.raw("SELECT * FROM audit_log WHERE seq = 2").first() }
            try await db.run { try await $0.raw("DELETE FROM audit_log WHERE seq = 2").run() }
            let gap = try await problem()
            #expect(gap.contains("seq 3 (id \(third)) follows seq 1"), "\(gap)")
            _ = saved
            try await db.run { try await $0.raw("DELETE FROM audit_log").run() }
            let emptied = try await problem()
            #expect(emptied.contains("removed"), "\(emptied)")
        }

        // A fresh chain, then a forged row appended at the end and one without a chain position.
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, components in
            #expect(try await client.call(.post, "/api/models", json: #"{"name": "a", "provider": "openai", "modelId": "x"}"#).status == .created)
            let intact = try await Self.verifyWithCLI(components.configuration.environment["DATABASE_URL"]!)
            #expect(intact.status == 0 && intact.output.contains("audit log intact: 1 chained rows"), "\(intact.output)")
            let db = components.database
            try await db.run { sql in
                try await sql.raw(
                    """
                    INSERT INTO audit_log (id, at, action, result, seq, prev_hash, row_hash) \
                    VALUES ('forged-row', 1, 'delete', 'ok', 2, 'x', 'y')
                    """
                ).run()
            }
            #expect(try await AuditChain.verify(database: db).problem?.contains("seq 2 (id forged-row) was inserted") == true)
            try await db.run { try await $0.raw("DELETE FROM audit_log WHERE id = 'forged-row'").run() }
            try await db.run { try await $0.raw("INSERT INTO audit_log (id, at, action, result) VALUES ('sneaky-row', 1, 'delete', 'ok')").run() }
            #expect(try await AuditChain.verify(database: db).problem?.contains("sneaky-row") == true)
        }
    }

    /// Two instances appending at once on one PostgreSQL database keep one chain (the advisory lock's job;
    /// on SQLite the file's write lock serialises writers, and two-instance SQLite runs are covered elsewhere).
    @Test(arguments: TestDatabase.available.filter { $0 == .postgres })
    func concurrentWritersFromTwoInstancesKeepOneChain(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil)) { _, first in
            try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil)) { _, second in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<20 {
                        let instance = index % 2 == 0 ? first : second
                        group.addTask {
                            var fields = ModelFields()
                            fields.name = .set("c\(index)")
                            fields.provider = .set("openai")
                            fields.modelId = .set("x")
                            _ = try await instance.registry.create(fields, actor: .commandLine)
                        }
                    }
                    try await group.waitForAll()
                }
                let report = try await AuditChain.verify(database: first.database)
                #expect(report.intact, "\(report.problem ?? "")")
                #expect(report.rows == 20)
            }
        }
    }

    /// Rows from before migration 005 stay unchained and are counted; the chain starts after them.
    @Test(arguments: TestDatabase.available)
    func rowsFromBeforeTheChainAreKeptAndCounted(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let components = try await TestApp.components(databaseURL: url, extra: VaultAPI.environment(fakes: nil))
        try await components.withRunning { components in
            let db = components.database
            try await Migrations.run(Array(Migrations.all.prefix(2)), on: db)
            try await db.run { sql in
                try await sql.raw("INSERT INTO audit_log (id, at, action, result) VALUES ('old-1', 1, 'create', 'ok')").run()
            }
            try await Migrations.run(on: db)
            try await db.transaction { sql in
                try await AuditLog.write(.create, actor: .commandLine, subject: .init(type: "model", id: "m"), result: "ok", on: sql)
            }
            let report = try await AuditChain.verify(database: db)
            #expect(report.intact && report.rows == 1 && report.unchained == 1, "\(report.problem ?? "")")
        }
    }

    static func verifyWithCLI(_ databaseURL: String) async throws -> (status: Int32, output: String) {
        var environment = TestApp.environment(databaseURL: databaseURL)
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("audit-verify-\(UUID().uuidString).log")
        return try await KeyRotationTests.runToEnd(["audit", "verify"], environment: environment, output: output)
    }
}
