import Foundation

extension Migrations {
    /// Deployments and routing, scoped tokens (this round's reach issues): the tail of ``all``, in order.
    static let reach: [Migration] = [
        // Each model's deployments (JSON, see Deployment) and routing. Every model that exists gets one
        // deployment following the model in everything (id `dep_<model id>`), so it answers exactly as before.
        // Each usage record names the deployment that answered.
        Migration(name: "019_deployments", steps: [
            .addColumn(table: "models", column: "deployments", type: "TEXT NOT NULL DEFAULT '[]'"),
            .addColumn(table: "models", column: "routing", type: "TEXT NOT NULL DEFAULT '{}'"),
            .sql(
                """
                UPDATE models SET deployments = '[{"id":"dep_' || id || '","isActive":true,"weight":1}]' \
                WHERE deployments = '[]'
                """),
            .addColumn(table: "usage_records", column: "deployment_id", type: "TEXT"),
        ]),
        // Scoped access tokens: the models a token may call (a JSON list; null for every model) and its own limits.
        Migration(name: "020_scoped_tokens", steps: [
            .addColumn(table: "access_tokens", column: "models", type: "TEXT"),
            .addColumn(table: "access_tokens", column: "rate_limit_per_minute", type: "BIGINT"),
            .addColumn(table: "access_tokens", column: "token_limit_per_minute", type: "BIGINT"),
        ]),
    ]
}
