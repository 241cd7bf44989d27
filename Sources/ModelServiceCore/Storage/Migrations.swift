import Foundation
import SQLKit

/// The schema, written once for both databases.
///
/// Each migration is plain DDL that SQLite and PostgreSQL both accept (TEXT, BIGINT, DOUBLE
/// PRECISION, BOOLEAN). Timestamps are BIGINT milliseconds since 1970 so that range and per-day
/// queries are the same arithmetic on both. Applied names are kept in `schema_migrations`; all of it
/// runs under a database-wide lock so two instances starting at once migrate once.
public enum Migrations {
    package struct Migration: Sendable {
        package let name: String
        package let steps: [Step]

        package init(name: String, statements: [String]) {
            self.name = name
            self.steps = statements.map(Step.sql)
        }

        package init(name: String, steps: [Step]) {
            self.name = name
            self.steps = steps
        }
    }

    /// One schema change. `addColumn` checks the catalog first, so a migration that stopped halfway
    /// (or was re-run by hand) can run again: SQLite has no `ADD COLUMN IF NOT EXISTS`.
    package enum Step: Sendable {
        case sql(String)
        case addColumn(table: String, column: String, type: String)
    }

    /// Lock key for migrations (any constant distinct from other advisory locks of the service).
    package static let lockKey: Int64 = 0x6D73_0001

    /// Applies every migration not yet applied; safe to call from several instances at once.
    ///
    /// On PostgreSQL each migration runs in its own transaction (DDL is transactional there), so a
    /// failed one leaves nothing half-applied; on SQLite the whole run is one transaction already.
    public static func run(on database: Database) async throws {
        try await run(all, on: database)
    }

    /// The name of the last migration this binary applies (`model-service version`).
    public static var latest: String { all.last?.name ?? "" }

    package static func run(_ migrations: [Migration], on database: Database) async throws {
        let isPostgres = database.dialect == .postgres
        do {
            try await database.exclusively(key: lockKey) { sql in
                try await sql.raw(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
                ).run()
                let applied = Set(try await sql.raw("SELECT name FROM schema_migrations").all().map {
                    try $0.decode(column: "name", as: String.self)
                })
                for migration in migrations where !applied.contains(migration.name) {
                    if isPostgres { try await sql.raw("BEGIN").run() }
                    do {
                        for step in migration.steps {
                            try await apply(step, on: sql, isPostgres: isPostgres)
                        }
                        try await sql.insert(into: "schema_migrations")
                            .columns("name", "applied_at")
                            .values(SQLBind(migration.name), SQLBind(Clock.nowMillis()))
                            .run()
                        if isPostgres { try await sql.raw("COMMIT").run() }
                    } catch {
                        if isPostgres { try? await sql.raw("ROLLBACK").run() }
                        throw error
                    }
                }
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.migrationFailed(Database.describe(error))
        }
    }

    private static func apply(_ step: Step, on sql: any SQLDatabase, isPostgres: Bool) async throws {
        switch step {
        case .sql(let statement):
            try await sql.raw("\(unsafeRaw: statement)").run()
        case .addColumn(let table, let column, let type):
            guard try await !hasColumn(table: table, column: column, on: sql, isPostgres: isPostgres) else { return }
            // Identifiers and types come from this file, never from input.
            try await sql.raw("ALTER TABLE \(unsafeRaw: table) ADD COLUMN \(unsafeRaw: column) \(unsafeRaw: type)").run()
        }
    }

    package static func hasColumn(table: String, column: String, on sql: any SQLDatabase, isPostgres: Bool) async throws -> Bool {
        let rows: [any SQLRow]
        if isPostgres {
            rows = try await sql.raw(
                """
                SELECT column_name FROM information_schema.columns \
                WHERE table_schema = current_schema() AND table_name = \(bind: table) AND column_name = \(bind: column)
                """
            ).all()
        } else {
            rows = try await sql.raw("SELECT name FROM pragma_table_info(\(bind: table)) WHERE name = \(bind: column)").all()
        }
        return !rows.isEmpty
    }
}
