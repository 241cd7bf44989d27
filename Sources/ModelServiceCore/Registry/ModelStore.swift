import Foundation
import SQLKit

/// The `models` table. Every write runs in one transaction that also bumps the `models` change
/// counter, so other instances reload.
package struct ModelStore: Sendable {
    package static let changeCounter = "models"
    package let database: Database

    package func all() async throws -> [Model] {
        try await database.run { sql in
            try await sql.raw("SELECT * FROM models ORDER BY provider, name").all()
        }.map(Model.init(row:))
    }

    /// The rows of `ids` that exist, by id.
    package func models(ids: Set<String>) async throws -> [String: Model] {
        let rows = try await database.run { sql in
            try await sql.select().column("*").from("models").where("id", .in, Array(ids)).all()
        }
        var models: [String: Model] = [:]
        for row in rows {
            let model = try Model(row: row)
            models[model.id] = model
        }
        return models
    }

    /// Inserts a validated model, audited; 409 when the name is taken.
    package func insert(_ fields: ModelFields, actor: AuditLog.Actor) async throws -> Model {
        do {
            return try await database.transaction { sql in
                let model = try await Self.insert(fields, on: sql)
                try await AuditLog.write(.create, actor: actor, subject: .model(model), result: "ok", detail: "model \(model.name)", on: sql)
                return model
            }
        } catch where Database.isUniqueViolation(error) {
            throw ServiceError.conflict("a model named '\(fields.name.value ?? "")' already exists")
        }
    }

    /// The insert itself, inside the caller's transaction (the seeder claims and inserts in one).
    package static func insert(_ fields: ModelFields, on sql: any SQLDatabase) async throws -> Model {
        guard let name = fields.name.value, let providerName = fields.provider.value, let provider = ProviderKind(name: providerName),
            let modelId = fields.modelId.value
        else { throw ServiceError.badRequest("name, provider and modelId are required") }
        let id = RandomIdentifier.uuid()
        let now = Clock.nowMillis()
        let isDefault = fields.isDefault.value ?? false
        if try await sql.raw("SELECT id FROM models WHERE name = \(bind: name)").first() != nil {
            throw ServiceError.conflict("a model named '\(name)' already exists")
        }
        if isDefault { try await clearDefault(provider: provider, except: id, on: sql) }
        let prices = fields.prices(over: nil)
        try await sql.insert(into: "models")
            .columns(
                [
                "id", "name", "display_name", "provider", "model_id", "description", "max_tokens", "supports_streaming",
                "default_temperature", "rate_limit_per_minute", "rate_limit_per_hour", "rate_limit_per_day",
                "provider_settings", "api_key_env_var",
                "is_active", "is_default", "metadata", "created_at", "updated_at", "mode",
                "fallbacks", "token_limit_per_minute", "token_limit_per_day", "allow_unpriced", "deployments", "routing",
                ] + ModelPrices.modelColumns
            )
            .values(
                [SQLBind(id), SQLBind(name), SQLBind(fields.displayName.value), SQLBind(provider.rawValue), SQLBind(modelId),
                SQLBind(fields.description.value), SQLBind(fields.maxTokens.value), SQLBind(fields.supportsStreaming.value ?? true),
                SQLBind(fields.defaultTemperature.value), SQLBind(fields.rateLimitPerMinute.value),
                SQLBind(fields.rateLimitPerHour.value), SQLBind(fields.rateLimitPerDay.value),
                SQLBind(Model.encodeObject(fields.providerSettings.value ?? [:])),
                SQLBind(fields.apiKeyEnvVar.value ?? provider.defaultAPIKeyEnvVar),
                SQLBind(fields.isActive.value ?? true), SQLBind(isDefault),
                SQLBind(Model.encodeObject(fields.metadata.value ?? [:])), SQLBind(now), SQLBind(now),
                SQLBind(fields.mode.value ?? ModelMode.chat.rawValue),
                SQLBind(FallbackChain.encode(fields.fallbacks.value ?? [])), SQLBind(fields.tokenLimitPerMinute.value),
                SQLBind(fields.tokenLimitPerDay.value), SQLBind(fields.allowUnpriced.value ?? false),
                SQLBind(Deployment.encodeList([.primary(modelId: id)])), SQLBind((fields.routing.value ?? Routing()).encoded())]
                    + ModelPrices.modelBinds(prices).map { SQLBind($0) }
            )
            .run()
        try await PriceHistory.record(modelId: id, prices: prices, at: now, on: sql)
        try await ChangeFeed.bump(changeCounter, subject: id, on: sql)
        return try await fetch(id: id, on: sql)
    }

    /// Applies a validated partial update, audited; nil when no model has that id.
    package func update(id: String, _ fields: ModelFields, actor: AuditLog.Actor) async throws -> Model? {
        do {
            return try await database.transaction { sql in
                guard let current = try await sql.raw("SELECT * FROM models WHERE id = \(bind: id)").first().map(Model.init(row:)) else {
                    return nil
                }
                if let name = fields.name.value, name != current.name,
                    try await sql.raw("SELECT id FROM models WHERE name = \(bind: name)").first() != nil
                {
                    throw ServiceError.conflict("a model named '\(name)' already exists")
                }
                let provider = fields.provider.value.flatMap(ProviderKind.init(name:)) ?? current.provider
                let becomesDefault = fields.isDefault.value ?? current.isDefault
                if becomesDefault { try await Self.clearDefault(provider: provider, except: id, on: sql) }

                var update = sql.update("models").where("id", .equal, SQLBind(id))
                    .set("updated_at", to: SQLBind(Clock.nowMillis()))
                    .set("provider", to: SQLBind(provider.rawValue))
                    .set("is_default", to: SQLBind(becomesDefault))
                func apply<T: Encodable & Sendable>(_ column: String, _ field: FieldUpdate<T>) {
                    if case .set(let value) = field { update = update.set(SQLIdentifier(column), to: SQLBind(value)) }
                }
                apply("name", fields.name)
                apply("display_name", fields.displayName)
                apply("model_id", fields.modelId)
                apply("mode", fields.mode)
                apply("description", fields.description)
                apply("max_tokens", fields.maxTokens)
                apply("supports_streaming", fields.supportsStreaming)
                apply("default_temperature", fields.defaultTemperature)
                apply("rate_limit_per_minute", fields.rateLimitPerMinute)
                apply("rate_limit_per_hour", fields.rateLimitPerHour)
                apply("rate_limit_per_day", fields.rateLimitPerDay)
                apply("allow_unpriced", fields.allowUnpriced)
                let prices = fields.prices(over: current.prices)
                if fields.changesPrices {
                    for (column, value) in zip(ModelPrices.modelColumns, ModelPrices.modelBinds(prices)) {
                        update = update.set(SQLIdentifier(column), to: SQLBind(value))
                    }
                    if prices != current.prices { try await PriceHistory.record(modelId: id, prices: prices, at: Clock.nowMillis(), on: sql) }
                }
                apply("api_key_env_var", fields.apiKeyEnvVar)
                apply("is_active", fields.isActive)
                apply("token_limit_per_minute", fields.tokenLimitPerMinute)
                apply("token_limit_per_day", fields.tokenLimitPerDay)
                if case .set(let fallbacks) = fields.fallbacks {
                    update = update.set("fallbacks", to: SQLBind(FallbackChain.encode(fallbacks ?? [])))
                }
                if case .set(let settings) = fields.providerSettings {
                    update = update.set("provider_settings", to: SQLBind(Model.encodeObject(settings ?? [:])))
                }
                if let routing = fields.routing.value { update = update.set("routing", to: SQLBind(routing.encoded())) }
                if case .set(let metadata) = fields.metadata {
                    update = update.set("metadata", to: SQLBind(Model.encodeObject(metadata ?? [:])))
                }
                try await update.run()
                try await ChangeFeed.bump(Self.changeCounter, subject: id, on: sql)
                let model = try await Self.fetch(id: id, on: sql)
                try await AuditLog.write(
                    .update, actor: actor, subject: .model(model), result: "ok",
                    detail: "model \(model.name); changed \(fields.namedFields.joined(separator: ", "))"
                        + (prices != current.prices ? "; prices \(ModelPrices.summary(current.prices)) -> \(ModelPrices.summary(prices))" : ""),
                    on: sql)
                return model
            }
        } catch where Database.isUniqueViolation(error) {
            throw ServiceError.conflict("a model with that name already exists, or another default was set at the same time; retry")
        }
    }

    /// Deletes a model, audited; false when no model has that id.
    package func delete(id: String, actor: AuditLog.Actor) async throws -> Bool {
        try await database.transaction { sql in
            guard let row = try await sql.raw("SELECT * FROM models WHERE id = \(bind: id)").first() else { return false }
            let model = try Model(row: row)
            try await sql.raw("DELETE FROM models WHERE id = \(bind: id)").run()
            try await PriceHistory.delete(modelId: id, on: sql)
            try await ChangeFeed.bump(Self.changeCounter, subject: id, on: sql)
            try await AuditLog.write(.delete, actor: actor, subject: .model(model), result: "ok", detail: "model \(model.name)", on: sql)
            return true
        }
    }

    package static func clearDefault(provider: ProviderKind, except id: String, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            "UPDATE models SET is_default = \(bind: false) WHERE provider = \(bind: provider.rawValue) AND id <> \(bind: id) AND is_default"
        ).run()
    }

    package static func fetch(id: String, on sql: any SQLDatabase) async throws -> Model {
        guard let row = try await sql.raw("SELECT * FROM models WHERE id = \(bind: id)").first() else {
            throw StorageError.unavailable("model \(id) vanished inside its own transaction")
        }
        return try Model(row: row)
    }
}
