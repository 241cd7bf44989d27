import Foundation

extension Migrations {
    /// Prices, the budget views, usage rollups, webhooks and price imports: the tail of ``all``, in order.
    static let costsReportsAndAlerts: [Migration] = [
        // Prices per million tokens with cache prices and tiers (ModelPrices); NULL input and output prices mean
        // "unpriced". Each usage record keeps the token detail it was priced from, and whether it had a price.
        Migration(name: "014_prices", steps: [
            .addColumn(table: "models", column: "input_cost_per_million", type: "DOUBLE PRECISION"),
            .addColumn(table: "models", column: "output_cost_per_million", type: "DOUBLE PRECISION"),
            .addColumn(table: "models", column: "cache_read_cost_per_million", type: "DOUBLE PRECISION"),
            .addColumn(table: "models", column: "cache_write_cost_per_million", type: "DOUBLE PRECISION"),
            .addColumn(table: "models", column: "cache_write_1h_cost_per_million", type: "DOUBLE PRECISION"),
            .addColumn(table: "models", column: "price_tiers", type: "TEXT NOT NULL DEFAULT '[]'"),
            .addColumn(table: "models", column: "allow_unpriced", type: "BOOLEAN NOT NULL DEFAULT FALSE"),
            .sql(
                """
                UPDATE models SET input_cost_per_million = input_cost_per_1k_tokens * 1000, \
                output_cost_per_million = output_cost_per_1k_tokens * 1000 WHERE input_cost_per_million IS NULL
                """),
            .addColumn(table: "usage_records", column: "cache_read_tokens", type: "BIGINT NOT NULL DEFAULT 0"),
            .addColumn(table: "usage_records", column: "cache_write_tokens", type: "BIGINT NOT NULL DEFAULT 0"),
            .addColumn(table: "usage_records", column: "cache_write_1h_tokens", type: "BIGINT NOT NULL DEFAULT 0"),
            .addColumn(table: "usage_records", column: "reasoning_tokens", type: "BIGINT NOT NULL DEFAULT 0"),
            .addColumn(table: "usage_records", column: "priced", type: "BOOLEAN NOT NULL DEFAULT TRUE"),
            .sql(
                """
                CREATE TABLE IF NOT EXISTS model_prices (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL,
                    effective_at BIGINT NOT NULL,
                    input_cost_per_million DOUBLE PRECISION,
                    output_cost_per_million DOUBLE PRECISION,
                    cache_read_cost_per_million DOUBLE PRECISION,
                    cache_write_cost_per_million DOUBLE PRECISION,
                    cache_write_1h_cost_per_million DOUBLE PRECISION,
                    price_tiers TEXT NOT NULL DEFAULT '[]'
                )
                """),
            .sql("CREATE INDEX IF NOT EXISTS model_prices_model ON model_prices (model_id, effective_at)"),
            // The prices every existing model has had since it was last changed: the start of its history.
            .sql(
                """
                INSERT INTO model_prices (id, model_id, effective_at, input_cost_per_million, output_cost_per_million) \
                SELECT id, id, updated_at, input_cost_per_million, output_cost_per_million FROM models WHERE 1 = 1 \
                ON CONFLICT (id) DO NOTHING
                """),
        ]),
        // The budget version each instance has loaded (PostgreSQL), so a budget's creator can wait until
        // every instance enforces it (BudgetViews).
        Migration(name: "015_budget_views", statements: [
            """
            CREATE TABLE IF NOT EXISTS budget_views (
                instance_id TEXT PRIMARY KEY,
                version BIGINT NOT NULL,
                at BIGINT NOT NULL
            )
            """,
        ]),
        // Hourly and daily rollups of usage (UsageRollups), filled from the records already there; reports
        // read them, so the records need only narrow indexes for time ranges, exports and pruning.
        Migration(name: "016_usage_rollups", statements: UsageRollups.createStatements(UsageRollups.Family.beforeTeams) + [
            "DROP INDEX IF EXISTS usage_records_at_model",
            "DROP INDEX IF EXISTS usage_records_user_at_cost",
            "CREATE INDEX IF NOT EXISTS usage_records_at ON usage_records (at)",
            "CREATE INDEX IF NOT EXISTS usage_records_user_at ON usage_records (user_id, at)",
        ]),
        // Alert webhooks (Webhooks/): the endpoints with their encrypted signing secret, the delivery log that is
        // also the outbox the dispatcher polls, and the mark that sends `budget.exceeded` once per budget and period.
        Migration(name: "017_webhooks", steps: [
            .sql(
                """
                CREATE TABLE IF NOT EXISTS webhooks (
                    id TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    events TEXT NOT NULL,
                    format TEXT NOT NULL DEFAULT 'json',
                    secret_ciphertext TEXT NOT NULL,
                    key_version BIGINT NOT NULL,
                    active BOOLEAN NOT NULL DEFAULT TRUE,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """),
            .sql(
                """
                CREATE TABLE IF NOT EXISTS webhook_deliveries (
                    id TEXT PRIMARY KEY,
                    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
                    event TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL,
                    last_status_code BIGINT,
                    last_error TEXT,
                    created_at BIGINT NOT NULL,
                    delivered_at BIGINT
                )
                """),
            // The dispatcher's poll: due pending rows, oldest first.
            .sql("CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)"),
            // One webhook's log, newest first (and the cascade on delete).
            .sql("CREATE INDEX IF NOT EXISTS webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at)"),
            .addColumn(table: "budgets", column: "exceeded_period", type: "BIGINT"),
        ]),
        // Price-map imports staged by `prices import`, waiting for an admin's approval on the console (PriceImports).
        Migration(name: "018_price_imports", statements: [
            """
            CREATE TABLE IF NOT EXISTS price_imports (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                changes TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                decided_at BIGINT,
                decided_by TEXT
            )
            """,
            "CREATE INDEX IF NOT EXISTS price_imports_status ON price_imports (status, created_at)",
        ]),
    ]
}
