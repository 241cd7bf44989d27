import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Seeding from the default catalog: complete, never duplicated, never resurrecting a deleted model.
@Suite struct CatalogSeederTests {
    @Test func catalogCoversEveryProviderWithOneDefaultEach() throws {
        let catalog = try CatalogSeeder.catalog()
        #expect(catalog.count >= 14)
        let providers = catalog.compactMap { $0.provider.value.flatMap(ProviderKind.init(name:)) }
        #expect(Set(providers) == Set(ProviderKind.allCases))
        for provider in ProviderKind.allCases {
            let defaults = catalog.filter { $0.provider.value == provider.rawValue && $0.isDefault.value == true }
            #expect(defaults.count == 1, "\(provider)")
        }
        #expect(Set(catalog.compactMap(\.name.value)).count == catalog.count)
        #expect(catalog.contains { $0.name.value == "openai/gpt-4o-mini" && $0.inputCostPerMillion.value == 0.15 && $0.cacheReadCostPerMillion.value == 0.075 })
    }

    @Test(arguments: TestDatabase.available)
    func seedingTwiceAddsNothingAndDeletedModelsStayDeleted(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let catalogCount = try CatalogSeeder.catalog().count
        let components = try await TestApp.components(databaseURL: url, extra: ["SEED_ON_START": "false"])
        try await components.withRunning { components in
            let database = components.database
            try await Migrations.run(on: database)
            let seeder = CatalogSeeder(database: database, logger: TestApp.logger)
            #expect(try await seeder.seed().count == catalogCount)
            #expect(try await seeder.seed().isEmpty)
            try await components.registry.reload()
            #expect(components.registry.snapshot.models.count == catalogCount)

            let deleted = try #require(components.registry.model(named: "xai/grok-3"))
            #expect(try await components.registry.delete(id: deleted.id, actor: .commandLine))
            #expect(try await seeder.seed().isEmpty)
            try await components.registry.reload()
            #expect(components.registry.model(named: "xai/grok-3") == nil)
            #expect(components.registry.snapshot.models.count == catalogCount - 1)
        }
    }

    @Test(arguments: TestDatabase.available)
    func twoInstancesStartingAtOnceSeedExactlyOnce(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let catalogCount = try CatalogSeeder.catalog().count
        // The second waits for the first's migration and seeding (at most DATABASE_TIMEOUT_SECONDS on SQLite):
        // far above the time they take, so a loaded machine does not turn the wait into a failure.
        let wait = ["DATABASE_TIMEOUT_SECONDS": "120"]
        let first = try await TestApp.components(databaseURL: url, extra: wait)
        let second = try await TestApp.components(databaseURL: url, extra: wait)
        try await first.withRunning { _ in
            try await second.withRunning { _ in
                async let a = first.prepare()
                async let b = second.prepare()
                _ = try await (a, b)
            }
        }
        let check = try await TestApp.components(databaseURL: url)
        try await check.withRunning { components in
            let database = components.database
            let rows = try await database.run { try await $0.raw("SELECT name FROM models").all() }
            let names = try rows.map { try $0.decode(column: "name", as: String.self) }
            #expect(names.count == catalogCount)
            #expect(Set(names).count == catalogCount)
        }
    }
}
