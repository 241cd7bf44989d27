import Foundation

extension Migrations {
    /// Deployments and routing, scoped tokens, teams (this round's reach issues): the tail of ``all``, in order.
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
        // Teams: members with a role, the team a token calls for, budgets of a team. A key shared with a team is
        // owned by `@team:<id>` (RecordBinding), so it needs no column; each usage record names the call's team.
        Migration(name: "021_teams", steps: [
            .sql(
                "CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)"),
            .sql(
                """
                CREATE TABLE IF NOT EXISTS team_members (team_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, \
                created_at BIGINT NOT NULL, PRIMARY KEY (team_id, user_id))
                """),
            .sql("CREATE UNIQUE INDEX IF NOT EXISTS teams_name ON teams (LOWER(name))"),
            .sql("CREATE INDEX IF NOT EXISTS team_members_user ON team_members (user_id)"),
            .addColumn(table: "teams", column: "limits", type: "TEXT NOT NULL DEFAULT '[]'"),
            .addColumn(table: "access_tokens", column: "team_id", type: "TEXT"),
            .addColumn(table: "budgets", column: "team_id", type: "TEXT"),
            .addColumn(table: "usage_records", column: "team_id", type: "TEXT"),
        ] + UsageRollups.createStatements([.teams]).map(Step.sql)),
        // Every usage batch looks up the budgets of its users, tokens and teams (late budget charges).
        Migration(name: "022_budgets_team_index", steps: [
            .sql("CREATE INDEX IF NOT EXISTS budgets_team ON budgets (team_id)")
        ]),
    ]
}
