import Foundation
import SQLKit

/// The schema, written once for both databases.
///
/// Each migration is plain DDL that SQLite and PostgreSQL both accept (TEXT, BIGINT, DOUBLE
/// PRECISION, BOOLEAN). Timestamps are BIGINT milliseconds since 1970 so that range and per-day
/// queries are the same arithmetic on both. Applied names are kept in `schema_migrations`; all of it
/// runs under a database-wide lock so two instances starting at once migrate once.
public enum Migrations {
    struct Migration: Sendable {
        let name: String
        let statements: [String]
    }

    static let all: [Migration] = [
        Migration(name: "001_foundation", statements: [
            """
            CREATE TABLE IF NOT EXISTS change_counters (
                name TEXT PRIMARY KEY,
                version BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS configs (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS models (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                display_name TEXT,
                provider TEXT NOT NULL,
                model_id TEXT NOT NULL,
                description TEXT,
                max_tokens BIGINT,
                supports_streaming BOOLEAN NOT NULL DEFAULT TRUE,
                default_temperature DOUBLE PRECISION,
                rate_limit_per_minute BIGINT,
                rate_limit_per_hour BIGINT,
                rate_limit_per_day BIGINT,
                input_cost_per_1k_tokens DOUBLE PRECISION NOT NULL DEFAULT 0,
                output_cost_per_1k_tokens DOUBLE PRECISION NOT NULL DEFAULT 0,
                provider_settings TEXT NOT NULL DEFAULT '{}',
                api_key_env_var TEXT,
                is_active BOOLEAN NOT NULL DEFAULT TRUE,
                is_default BOOLEAN NOT NULL DEFAULT FALSE,
                metadata TEXT NOT NULL DEFAULT '{}',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            // At most one default per provider, enforced by the database even under concurrent writes.
            "CREATE UNIQUE INDEX IF NOT EXISTS models_one_default_per_provider ON models (provider) WHERE is_default",
            "CREATE INDEX IF NOT EXISTS models_provider ON models (provider)",
            // Catalog names ever seeded: a model an admin deleted is never seeded back.
            """
            CREATE TABLE IF NOT EXISTS catalog_seeds (
                name TEXT PRIMARY KEY,
                seeded_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS access_tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                user_id TEXT,
                token_hash TEXT NOT NULL UNIQUE,
                token_prefix TEXT NOT NULL,
                expires_at BIGINT,
                revoked_at BIGINT,
                last_used_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS encryption_keys (
                version BIGINT PRIMARY KEY,
                kdf_salt TEXT NOT NULL,
                canary TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                retired_at BIGINT
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                provider TEXT NOT NULL,
                key_name TEXT NOT NULL,
                encrypted_key TEXT NOT NULL,
                key_version BIGINT NOT NULL,
                key_prefix TEXT NOT NULL,
                last_used_at BIGINT,
                usage_count BIGINT NOT NULL DEFAULT 0,
                is_active BOOLEAN NOT NULL DEFAULT TRUE,
                is_valid BOOLEAN,
                metadata TEXT NOT NULL DEFAULT '{}',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (user_id, provider, key_name)
            )
            """,
            "CREATE INDEX IF NOT EXISTS api_keys_user_provider ON api_keys (user_id, provider)",
            """
            CREATE TABLE IF NOT EXISTS audit_log (
                id TEXT PRIMARY KEY,
                at BIGINT NOT NULL,
                token_id TEXT,
                actor_role TEXT,
                action TEXT NOT NULL,
                key_id TEXT,
                target_user_id TEXT,
                provider TEXT,
                result TEXT NOT NULL,
                detail TEXT
            )
            """,
            "CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)",
            """
            CREATE TABLE IF NOT EXISTS usage_records (
                id TEXT PRIMARY KEY,
                at BIGINT NOT NULL,
                user_id TEXT,
                token_id TEXT,
                model TEXT NOT NULL,
                provider TEXT NOT NULL,
                key_id TEXT,
                key_source TEXT,
                prompt_tokens BIGINT NOT NULL DEFAULT 0,
                completion_tokens BIGINT NOT NULL DEFAULT 0,
                total_tokens BIGINT NOT NULL DEFAULT 0,
                cost DOUBLE PRECISION NOT NULL DEFAULT 0,
                latency_ms BIGINT NOT NULL DEFAULT 0,
                status BIGINT NOT NULL,
                streamed BOOLEAN NOT NULL DEFAULT FALSE,
                error_code TEXT
            )
            """,
            "CREATE INDEX IF NOT EXISTS usage_records_at ON usage_records (at)",
            "CREATE INDEX IF NOT EXISTS usage_records_user_at ON usage_records (user_id, at)",
        ]),
        // The scrypt cost is stored per master-key version, so a start derives the key exactly as it
        // was made (NULL = MasterKey.Cost.production); rotation scans by key_version.
        Migration(name: "002_vault", statements: [
            "ALTER TABLE encryption_keys ADD COLUMN kdf_rounds BIGINT",
            "ALTER TABLE encryption_keys ADD COLUMN kdf_block_size BIGINT",
            "ALTER TABLE encryption_keys ADD COLUMN kdf_parallelism BIGINT",
            "CREATE INDEX IF NOT EXISTS api_keys_key_version ON api_keys (key_version)",
            "CREATE INDEX IF NOT EXISTS audit_log_key_id ON audit_log (key_id)",
        ]),
        // Traffic control: fallbacks and token limits on models, budgets with their shared counters,
        // rate-limit windows shared by every instance (PostgreSQL), key health, attempts per call.
        Migration(name: "004_traffic", statements: [
            "ALTER TABLE models ADD COLUMN fallbacks TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE models ADD COLUMN token_limit_per_minute BIGINT",
            "ALTER TABLE models ADD COLUMN token_limit_per_day BIGINT",
            """
            CREATE TABLE IF NOT EXISTS budgets (
                id TEXT PRIMARY KEY,
                user_id TEXT,
                token_id TEXT,
                period TEXT NOT NULL,
                max_cost DOUBLE PRECISION,
                max_tokens BIGINT,
                soft_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.8,
                period_start BIGINT NOT NULL,
                spent_cost DOUBLE PRECISION NOT NULL DEFAULT 0,
                spent_tokens BIGINT NOT NULL DEFAULT 0,
                reserved_cost DOUBLE PRECISION NOT NULL DEFAULT 0,
                reserved_tokens BIGINT NOT NULL DEFAULT 0,
                soft_period BIGINT,
                soft_reached_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS budgets_user ON budgets (user_id)",
            "CREATE INDEX IF NOT EXISTS budgets_token ON budgets (token_id)",
            """
            CREATE TABLE IF NOT EXISTS rate_counters (
                counter_key TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                used BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (counter_key, window_start)
            )
            """,
            "CREATE INDEX IF NOT EXISTS rate_counters_expires ON rate_counters (expires_at)",
            "ALTER TABLE api_keys ADD COLUMN invalid_reason TEXT",
            "ALTER TABLE api_keys ADD COLUMN invalid_at BIGINT",
            "ALTER TABLE usage_records ADD COLUMN attempts BIGINT NOT NULL DEFAULT 1",
            "ALTER TABLE usage_records ADD COLUMN requested_model TEXT",
        ]),
    ]

    /// Lock key for migrations (any constant distinct from other advisory locks of the service).
    static let lockKey: Int64 = 0x6D73_0001

    /// Applies every migration not yet applied; safe to call from several instances at once.
    public static func run(on database: Database) async throws {
        do {
            try await database.exclusively(key: lockKey) { sql in
                try await sql.raw(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
                ).run()
                let applied = Set(try await sql.raw("SELECT name FROM schema_migrations").all().map {
                    try $0.decode(column: "name", as: String.self)
                })
                for migration in all where !applied.contains(migration.name) {
                    for statement in migration.statements {
                        try await sql.raw("\(unsafeRaw: statement)").run()
                    }
                    try await sql.insert(into: "schema_migrations")
                        .columns("name", "applied_at")
                        .values(SQLBind(migration.name), SQLBind(Clock.nowMillis()))
                        .run()
                }
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.migrationFailed(Database.describe(error))
        }
    }
}
