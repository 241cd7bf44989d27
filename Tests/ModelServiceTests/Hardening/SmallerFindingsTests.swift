import Foundation
import SQLKit
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Issue 11's smaller findings: public model view, test knobs, re-runnable migrations, change feed retries.
@Suite struct SmallerFindingsTests {
    @Test(arguments: TestDatabase.available)
    func nonAdminTokensGetThePublicModelView(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, _ in
            let body = #"{"name": "private/m", "provider": "openai", "modelId": "x", "providerSettings": {"baseURL": "https://internal.example/v1"}}"#
            #expect(try await client.call(.post, "/api/models", json: body).status == .created)
            let user = try await VaultAPI.token(client, role: "user", userId: "u-1")
            let service = try await VaultAPI.token(client, role: "service")
            for token in [user, service] {
                for path in ["/api/models", "/api/models/private%2Fm"] {
                    let answer = try await client.call(.get, path, token: token)
                    #expect(answer.status == .ok)
                    #expect(answer.body.contains("private/m"))
                    #expect(!answer.body.contains("providerSettings") && !answer.body.contains("apiKeyEnvVar") && !answer.body.contains("internal.example"))
                }
            }
            let admin = try await client.call(.get, "/api/models/private%2Fm")
            #expect(admin.body.contains("internal.example") && admin.body.contains("apiKeyEnvVar"))
        }
    }

    @Test func productionIgnoresTheTestKnobs() {
        let knobs = ["ENCRYPTION_KDF_COST": "fast-for-tests", "ROTATION_TEST_PAUSE_AFTER_ROWS": "6"]
        #expect(MasterKey.Cost.forNewVersions(environment: knobs) == .fastForTests)
        #expect(KeyRotation.testPause(environment: knobs) == 6)
        for production in [["ENV": "production"], ["NODE_ENV": "production"]] {
            let environment = knobs.merging(production) { _, new in new }
            #expect(MasterKey.Cost.forNewVersions(environment: environment) == .production)
            #expect(KeyRotation.testPause(environment: environment) == nil)
        }
    }

    @Test(arguments: TestDatabase.available)
    func migrationsRerunSafelyAndAFailedOneLeavesNothingBehind(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { _, components in
            let db = components.database
            // As if 002 and 005 had stopped halfway: their columns exist but they are not recorded.
            try await db.run { try await $0.raw("DELETE FROM schema_migrations WHERE name IN ('002_vault', '005_hardening_audit')").run() }
            try await Migrations.run(on: db)
            let names = try await db.run { sql in
                try await sql.raw("SELECT name FROM schema_migrations").all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(names.contains("002_vault") && names.contains("005_hardening_audit"))

            let broken = Migrations.Migration(name: "999_broken", statements: ["CREATE TABLE half_done (a TEXT)", "THIS IS NOT SQL"])
            await #expect(throws: StorageError.self) { try await Migrations.run([broken], on: db) }
            let leftover = try? await db.run { sql in try await sql.raw("SELECT * FROM half_done").all().count }
            #expect(leftover == nil, "half_done exists: the failed migration was not rolled back")
        }
    }

    @Test(arguments: TestDatabase.available)
    func theChangeFeedRetriesAFailedReloadAndReloadsEverythingPeriodically(database: TestDatabase) async throws {
        let components = try await TestApp.components(databaseURL: try await database.makeURL())
        try await components.withRunning { components in
            try await Migrations.run(on: components.database)
            let feed = ChangeFeed(database: components.database, interval: .seconds(60), fullReloadInterval: .seconds(3600), logger: TestApp.logger)
            try await feed.arm(counters: ["test"])
            let calls = Mutex(0)
            feed.subscribe("test") {
                let call = calls.withLock { count in
                    count += 1
                    return count
                }
                if call == 1 { throw TestFailure("database hiccup") }
            }
            try await components.database.transaction { try await ChangeFeed.bump("test", on: $0) }
            await feed.poll()
            #expect(calls.withLock { $0 } == 1)
            await feed.poll()
            #expect(calls.withLock { $0 } == 2, "a failed reload must be retried")
            await feed.poll()
            #expect(calls.withLock { $0 } == 2, "a successful reload marks the change seen")

            let periodic = ChangeFeed(database: components.database, interval: .seconds(60), fullReloadInterval: .zero, logger: TestApp.logger)
            try await periodic.arm(counters: ["test"])
            let reloads = Mutex(0)
            periodic.subscribe("test") { reloads.withLock { $0 += 1 } }
            await periodic.poll()
            await periodic.poll()
            #expect(reloads.withLock { $0 } == 2, "the periodic full reload runs without a change")
        }
    }
}
