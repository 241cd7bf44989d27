import Foundation

extension Migrations {
    /// Every migration in the order applied; a name, once released, never changes. The later ones, for
    /// costs, usage reports and alerts, are in Migrations+costs.swift.
    package static let all: [Migration] = [
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
        Migration(name: "002_vault", steps: [
            .addColumn(table: "encryption_keys", column: "kdf_rounds", type: "BIGINT"),
            .addColumn(table: "encryption_keys", column: "kdf_block_size", type: "BIGINT"),
            .addColumn(table: "encryption_keys", column: "kdf_parallelism", type: "BIGINT"),
            .sql("CREATE INDEX IF NOT EXISTS api_keys_key_version ON api_keys (key_version)"),
            .sql("CREATE INDEX IF NOT EXISTS audit_log_key_id ON audit_log (key_id)"),
        ]),
        // Keys bound to an explicit endpoint (NULL: the provider's configured base URL, as every
        // older row is); audit rows about models, tokens and clients, aggregated counts, and the hash
        // chain. Rows written before this migration stay unchained: their number is recorded here so
        // `audit verify` notices any row added later without a chain position.
        Migration(name: "005_hardening_audit", steps: [
            .addColumn(table: "api_keys", column: "endpoint", type: "TEXT"),
            .addColumn(table: "audit_log", column: "subject_type", type: "TEXT"),
            .addColumn(table: "audit_log", column: "subject_id", type: "TEXT"),
            .addColumn(table: "audit_log", column: "event_count", type: "BIGINT"),
            .addColumn(table: "audit_log", column: "seq", type: "BIGINT"),
            .addColumn(table: "audit_log", column: "prev_hash", type: "TEXT"),
            .addColumn(table: "audit_log", column: "row_hash", type: "TEXT"),
            .sql("CREATE UNIQUE INDEX IF NOT EXISTS audit_log_seq ON audit_log (seq)"),
            .sql(
                """
                INSERT INTO configs (key, value, updated_at) \
                SELECT 'audit.unchained_rows', CAST(COUNT(*) AS TEXT), 0 FROM audit_log WHERE seq IS NULL \
                ON CONFLICT (key) DO NOTHING
                """),
        ]),
        Migration(name: "003_pipeline", statements: [
            "ALTER TABLE models ADD COLUMN mode TEXT NOT NULL DEFAULT 'chat'",
            "ALTER TABLE usage_records ADD COLUMN request_id TEXT",
            "ALTER TABLE usage_records ADD COLUMN attempts BIGINT NOT NULL DEFAULT 1",
            "ALTER TABLE usage_records ADD COLUMN usage_estimated BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE usage_records ADD COLUMN requested_model TEXT",
            "CREATE INDEX IF NOT EXISTS usage_records_request_id ON usage_records (request_id)",
        ]),
        // Traffic control: fallbacks and token limits on models, budgets with their shared counters,
        // rate-limit windows shared by every instance (PostgreSQL), key health (attempts per call: 003_pipeline).
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
        ]),
        // Console sign-ins: only a SHA-256 of the session id is stored, so a leaked table opens no session.
        // The usage indexes cover the console's per-day/model/provider/user aggregates and the audit filters.
        Migration(name: "007_console", statements: [
            """
            CREATE TABLE IF NOT EXISTS console_sessions (
                id_hash TEXT PRIMARY KEY,
                data TEXT NOT NULL,
                expires_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS console_sessions_expires_at ON console_sessions (expires_at)",
            "CREATE INDEX IF NOT EXISTS usage_records_at_model ON usage_records (at, model, provider, total_tokens, cost)",
            "CREATE INDEX IF NOT EXISTS usage_records_user_at_cost ON usage_records (user_id, at, total_tokens, cost)",
            "CREATE INDEX IF NOT EXISTS audit_log_action_at ON audit_log (action, at)",
            "CREATE INDEX IF NOT EXISTS audit_log_user_at ON audit_log (target_user_id, at)",
        ]),
        // Audit rows name the HTTP request that wrote them, the id also in logs, traces and X-Request-Id.
        Migration(name: "008_observability", statements: [
            "ALTER TABLE audit_log ADD COLUMN request_id TEXT",
        ]),
        // Shared limits on PostgreSQL: a lease statement records how many permits it granted, so the
        // grant is computed in the same atomic upsert; instances beat here so that, with the database
        // gone, each enforces its share of a limit.
        Migration(name: "009_traffic_leases", steps: [
            .addColumn(table: "rate_counters", column: "granted", type: "BIGINT NOT NULL DEFAULT 0"),
            .sql(
                """
                CREATE TABLE IF NOT EXISTS traffic_instances (
                    instance_id TEXT PRIMARY KEY,
                    last_seen BIGINT NOT NULL
                )
                """),
            .sql("CREATE INDEX IF NOT EXISTS traffic_instances_last_seen ON traffic_instances (last_seen)"),
        ]),
        // Budget headroom leased by each instance (PostgreSQL), also counted in the budget row's
        // `reserved`; kept per instance so that a crashed instance's leases can be handed back.
        Migration(name: "010_budget_leases", statements: [
            """
            CREATE TABLE IF NOT EXISTS budget_leases (
                budget_id TEXT NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
                instance_id TEXT NOT NULL,
                period_start BIGINT NOT NULL,
                cost DOUBLE PRECISION NOT NULL DEFAULT 0,
                tokens BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (budget_id, instance_id)
            )
            """,
            "CREATE INDEX IF NOT EXISTS budget_leases_instance ON budget_leases (instance_id)",
        ]),
        // Every usage row is written to each of its indexes; these two are prefixes of 007's covering
        // indexes (at, …) and (user_id, at, …), which serve the same queries.
        Migration(name: "011_usage_index_trim", statements: [
            "DROP INDEX IF EXISTS usage_records_at",
            "DROP INDEX IF EXISTS usage_records_user_at",
        ]),
        // Rows written before token counts were bounded (an upstream could report 2^63 - 1 tokens) would make
        // every report's SUM overflow: clamp them to the bound every new record gets (TokenCount.max), in one scan.
        Migration(name: "012_usage_token_bounds", statements: [
            """
            UPDATE usage_records SET
                prompt_tokens = CASE WHEN prompt_tokens > 1000000000 THEN 1000000000 WHEN prompt_tokens < 0 THEN 0 ELSE prompt_tokens END,
                completion_tokens = CASE WHEN completion_tokens > 1000000000 THEN 1000000000 WHEN completion_tokens < 0 THEN 0 ELSE completion_tokens END,
                total_tokens = CASE WHEN prompt_tokens > 1000000000 THEN 1000000000 WHEN prompt_tokens < 0 THEN 0 ELSE prompt_tokens END
                    + CASE WHEN completion_tokens > 1000000000 THEN 1000000000 WHEN completion_tokens < 0 THEN 0 ELSE completion_tokens END,
                cost = CASE WHEN cost >= 0 AND cost <= 1000000000 THEN cost ELSE 0 END
            WHERE prompt_tokens > 1000000000 OR prompt_tokens < 0 OR completion_tokens > 1000000000 OR completion_tokens < 0
                OR total_tokens > 2000000000 OR total_tokens < 0 OR NOT (cost >= 0 AND cost <= 1000000000)
            """,
        ]),
        // What changed, by row, so an instance reloads one model of 10,000 instead of the table (ChangeFeed).
        Migration(name: "013_change_log", statements: [
            """
            CREATE TABLE IF NOT EXISTS change_log (
                counter TEXT NOT NULL,
                version BIGINT NOT NULL,
                subject TEXT NOT NULL,
                at BIGINT NOT NULL,
                PRIMARY KEY (counter, version)
            )
            """,
            "CREATE INDEX IF NOT EXISTS change_log_at ON change_log (at)",
        ]),
    ] + costsReportsAndAlerts + reach
}
