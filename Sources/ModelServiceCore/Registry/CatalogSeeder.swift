import Foundation
import Logging
import SQLKit

/// Fills the registry from the default catalog shipped in the package (`default-catalog.json`).
///
/// Each catalog name is claimed once in `catalog_seeds` (insert-if-absent, with RETURNING telling
/// who won): seeding twice adds nothing, two instances starting at once seed each model exactly
/// once, and a model an admin deleted is never brought back. A catalog entry whose name an admin
/// already used is left alone.
public struct CatalogSeeder: Sendable {
    package let database: Database
    package let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The catalog entries, decoded with the same validation as the REST API.
    public static func catalog() throws -> [ModelFields] {
        guard let url = Bundle.module.url(forResource: "default-catalog", withExtension: "json") else {
            throw StorageError.unavailable("default-catalog.json is missing from the package resources")
        }
        // JSON5, so the file can carry commented examples (a local vLLM server).
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        let entries = try decoder.decode([ModelFields].self, from: Data(contentsOf: url))
        for entry in entries {
            try entry.validate(creating: true)
            try ModelRegistry.checkServer(entry, current: nil)
        }
        return entries
    }

    /// Seeds what was never seeded; returns the names added. Claim and insert share one
    /// transaction, so a crash in between loses nothing.
    @discardableResult
    public func seed() async throws -> [String] {
        let entries = try Self.catalog()
        var added: [String] = []
        for entry in entries {
            guard let name = entry.name.value, let provider = entry.provider.value.flatMap(ProviderKind.init(name:)) else { continue }
            let inserted = try await database.transaction { sql -> Bool in
                let claimed = try await !sql.insert(into: "catalog_seeds")
                    .columns("name", "seeded_at")
                    .values(SQLBind(name), SQLBind(Clock.nowMillis()))
                    .ignoringConflicts(with: ["name"])
                    .returning("name")
                    .all()
                    .isEmpty
                guard claimed else { return false }
                if try await sql.raw("SELECT id FROM models WHERE name = \(bind: name)").first() != nil {
                    return false  // an admin already defined a model of that name: theirs stays
                }
                var fields = entry
                // A catalog default never takes the place of a default an admin chose.
                if fields.isDefault.value == true,
                    try await sql.raw("SELECT id FROM models WHERE provider = \(bind: provider.rawValue) AND is_default").first() != nil
                {
                    fields.isDefault = .set(false)
                }
                _ = try await ModelStore.insert(fields, on: sql)
                return true
            }
            if inserted { added.append(name) }
        }
        if !added.isEmpty {
            logger.info("seeded the model registry from the default catalog", metadata: ["added": "\(added.count)"])
        }
        return added
    }
}
