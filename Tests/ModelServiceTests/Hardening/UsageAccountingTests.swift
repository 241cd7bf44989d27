import Foundation
import SQLKit
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// No input stops usage accounting: refused rows are set aside, the rest go in, inserts are
/// idempotent, a full queue spills to a file, and what shutdown cannot write is re-imported.
@Suite struct UsageAccountingTests {
    static func record(_ user: String?, keyId: String? = nil, id: String? = nil) -> UsageRecord {
        var record = UsageRecord(userId: user, tokenId: nil, model: "m", provider: .openai, status: 200)
        record.keyId = keyId
        if let id { record.id = id }
        return record
    }

    /// Makes the database refuse rows whose user is `poison`: a trigger on SQLite, a CHECK on PostgreSQL.
    static func installPoison(_ database: Database) async throws {
        try await database.run { sql in
            switch database.dialect {
            case .sqlite:
                try await sql.raw("""
                    CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records
                    WHEN NEW.user_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END
                    """).run()
            case .postgres:
                try await sql.raw("ALTER TABLE usage_records ADD CONSTRAINT refuse_poison CHECK (user_id IS NULL OR user_id <> 'poison')").run()
            }
        }
    }

    static func count(_ database: Database) async throws -> Int {
        try await database.run { try await $0.raw("SELECT COUNT(*) AS n FROM usage_records").first()?.decode(column: "n", as: Int.self) } ?? -1
    }

    @Test(arguments: TestDatabase.available)
    func aPoisonedRowDoesNotStopTheNextOnes(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["USAGE_FLUSH_MS": "600000", "SEED_ON_START": "false"]) { client, components in
            let key = try await VaultAPI.store(client, userId: nil, key: VaultAPI.randomKey())
            try await Self.installPoison(components.database)
            let usage = components.usage
            let first = Self.record("alice", keyId: key.id)
            usage.record(first)
            usage.record(Self.record("poison", keyId: key.id))
            // PostgreSQL refuses a NUL byte in text on its own.
            let refused = database == .postgres ? 2 : 1
            if database == .postgres { usage.record(Self.record("nul\u{0}byte")) }
            usage.record(Self.record("bob"))
            await usage.flush()
            #expect(try await Self.count(components.database) == 2)
            #expect(usage.pendingCount == 0)
            #expect(usage.spill.deadLetterCount == refused)
            let deadLetters = try String(contentsOfFile: usage.spill.path(.deadLetter), encoding: .utf8)
            #expect(deadLetters.contains("poison"))

            // Later records still go in; the same record twice is written and counted once.
            usage.record(first)
            usage.record(Self.record("carol"))
            await usage.flush()
            #expect(try await Self.count(components.database) == 3)
            let usageCount = try await components.database.run {
                try await $0.raw("SELECT usage_count FROM api_keys WHERE id = \(bind: key.id)").first()?.decode(column: "usage_count", as: Int.self)
            }
            #expect(usageCount == 1)

            let health = try await client.call(.get, "/api/health", token: nil)
            let healthJSON = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
            #expect((healthJSON["usage"] as? [String: Any])?["deadLettered"] as? Int == refused)
        }
    }

    @Test(arguments: TestDatabase.available)
    func aFullQueueSpillsToAFileThatTheNextStartImports(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ms-data-\(UUID().uuidString)").path
        let extra = ["USAGE_FLUSH_MS": "600000", "USAGE_QUEUE_MAX": "5", "DATA_DIR": dataDirectory, "SEED_ON_START": "false"]
        try await TestApp.run(databaseURL: url, extra: extra) { _, components in
            for index in 0..<8 { components.usage.record(Self.record("user-\(index)")) }
            #expect(components.usage.pendingCount == 5)
            #expect(components.usage.spill.pendingCount == 3)
        }
        // Shutdown wrote the five queued; the next start imports the three in the file, and a repeat adds nothing.
        try await TestApp.run(databaseURL: url, extra: extra) { _, components in
            let count = try await Self.count(components.database)
            #expect(count == 8)
            #expect(!FileManager.default.fileExists(atPath: components.usage.spill.path(.pending)))
        }
    }

    /// A database that refuses connections when the shutdown starts, and is let back in only once the
    /// shutdown's first write has failed (`model_service_usage_write_failures_total`), well within the 29 s
    /// it may write for: the records go in, none is left in the pending file.
    @Test(.timeLimit(.minutes(5)), arguments: TestDatabase.available.filter { $0 == .postgres })
    func aShutdownWritesOnceTheDatabaseIsBackWithinItsBound(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ms-data-\(UUID().uuidString)").path
        let extra = ["USAGE_FLUSH_MS": "600000", "DATA_DIR": dataDirectory, "SEED_ON_START": "false", "USAGE_SHUTDOWN_SECONDS": "30"]
        let restorer = Mutex<Task<Void, any Error>?>(nil)
        do {
            try await TestApp.run(databaseURL: url, extra: extra) { _, components in
                for index in 0..<10 { components.usage.record(Self.record("back-\(index)")) }
                try await PostgresAdmin.cut(url)
                restorer.withLock {
                    $0 = Task {
                        _ = try await eventually(timeout: .seconds(60)) {
                            (MetricsTests.value(components.metrics.registry.emitToString(), "model_service_usage_write_failures_total") ?? 0) >= 1
                        }
                        try await PostgresAdmin.restore(url)
                    }
                }
            }
            try await restorer.withLock { $0 }?.value
            #expect(UsageSpillFile(directory: dataDirectory, logger: TestApp.logger).pendingCount == 0)
            let location = try DatabaseLocation.parse(url, dataDirectory: dataDirectory)
            let count = try await Database.open(location, logger: TestApp.logger).withRunning { try await Self.count($0) }
            #expect(count == 10)
        } catch {
            try? await PostgresAdmin.restore(url)
            throw error
        }
    }

    @Test(.timeLimit(.minutes(5)), arguments: TestDatabase.available.filter { $0 == .postgres })
    func shutdownWithTheDatabaseGoneEndsInTimeAndLosesNothing(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ms-data-\(UUID().uuidString)").path
        let extra = [
            // The usual connection timeout: the shutdown bound below limits the wait, and a loaded machine may take
            // more than a second to hand out a connection when the service starts.
            "USAGE_FLUSH_MS": "600000", "DATA_DIR": dataDirectory, "SEED_ON_START": "false", "USAGE_SHUTDOWN_SECONDS": "3",
        ]
        do {
            try await TestApp.run(databaseURL: url, extra: extra) { _, components in
                for index in 0..<10 { components.usage.record(Self.record("user-\(index)")) }
                try await PostgresAdmin.cut(url)
            }
            // Shutdown returned (the time limit above guards a hang); the records wait in the pending file.
            let spill = UsageSpillFile(directory: dataDirectory, logger: TestApp.logger)
            #expect(spill.pendingCount == 10)
            try await PostgresAdmin.restore(url)
            try await TestApp.run(databaseURL: url, extra: extra) { _, components in
                let count = try await Self.count(components.database)
                #expect(count == 10)
            }
        } catch {
            try? await PostgresAdmin.restore(url)
            throw error
        }
    }
}
