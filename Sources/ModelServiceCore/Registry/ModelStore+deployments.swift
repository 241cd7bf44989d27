import Foundation
import SQLKit

extension ModelStore {
    /// What a deployment change did, for the audit line.
    package enum DeploymentChange: String, Sendable {
        case added, changed, removed
    }

    /// Changes one model's deployments in a transaction: reads the row, applies `change` to its list, and writes
    /// the list back only if nobody changed it meanwhile (a compare on the old JSON, so two instances editing
    /// at once never lose an edit: the later one retries on the fresh list). Audited as a model update and
    /// bumped on the change feed, so every instance reloads the model. Nil when no model has that id.
    package func changeDeployments(
        modelId: String, actor: AuditLog.Actor, _ change: @Sendable (inout [Deployment]) throws -> (Deployment, DeploymentChange)
    ) async throws -> (Model, Deployment)? {
        for _ in 0..<5 {
            let outcome: (Model, Deployment)?? = try await database.transaction { sql in
                guard let row = try await sql.raw("SELECT * FROM models WHERE id = \(bind: modelId)").first() else { return .some(nil) }
                let current = try Model(row: row)
                let oldText = try row.decode(column: "deployments", as: String.self)
                var list = current.deployments
                let (deployment, kind) = try change(&list)
                let now = Clock.nowMillis()
                let updated = try await sql.raw(
                    """
                    UPDATE models SET deployments = \(bind: Deployment.encodeList(list)), updated_at = \(bind: now) \
                    WHERE id = \(bind: modelId) AND deployments = \(bind: oldText) RETURNING id
                    """
                ).first()
                guard updated != nil else { return nil }  // changed by someone else: read again
                try await ChangeFeed.bump(Self.changeCounter, subject: modelId, on: sql)
                let model = try await Self.fetch(id: modelId, on: sql)
                try await AuditLog.write(
                    .update, actor: actor, subject: .model(model), result: "ok",
                    detail: "model \(model.name); deployment \(deployment.id) \(kind.rawValue)", on: sql)
                return .some((model, deployment))
            }
            if let outcome { return outcome }
        }
        throw ServiceError.conflict("the model's deployments kept changing while this change was made; retry")
    }

    /// The stored key a deployment names must be an active shared key of the deployment's provider.
    package func checkSharedKey(_ keyId: String, provider: ProviderKind) async throws {
        let row = try await database.run { sql in
            try await sql.raw("SELECT user_id, provider, is_active FROM api_keys WHERE id = \(bind: keyId)").first()
        }
        guard let row, try row.decode(column: "user_id", as: String.self) == RecordBinding.sharedOwner,
            try ProviderKind(name: row.decode(column: "provider", as: String.self)) == provider
        else {
            throw ServiceError.invalidField("keyId", "must be the id of a shared \(provider.rawValue) key (POST /api/api-keys with shared: true)")
        }
    }
}
