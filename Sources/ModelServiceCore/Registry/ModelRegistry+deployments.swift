import Foundation

extension ModelRegistry {
    /// Adds a deployment to a model (`POST /api/models/{id}/deployments`); nil when no model has that id.
    public func addDeployment(modelId: String, _ fields: DeploymentFields, actor: AuditLog.Actor) async throws -> (Model, Deployment)? {
        let id = "dep_" + RandomIdentifier.uuid()
        let now = Clock.iso8601(millis: Clock.nowMillis())
        let keyVariables = self.keyVariables
        var blank = Deployment(id: id)
        blank.createdAt = now
        blank.updatedAt = now
        let draft = try fields.applied(to: blank, keyVariables: keyVariables)
        return try await changeDeployments(modelId: modelId, checking: draft, actor: actor) { list in
            guard list.count < Deployment.maxPerModel else {
                throw ServiceError.conflict("a model has at most \(Deployment.maxPerModel) deployments")
            }
            list.append(draft)
            return (draft, .added)
        }
    }

    /// Changes one deployment (`PATCH …/deployments/{deploymentId}`); nil when the model or the deployment is not there.
    public func updateDeployment(
        modelId: String, deploymentId: String, _ fields: DeploymentFields, actor: AuditLog.Actor
    ) async throws -> (Model, Deployment)? {
        guard let model = model(idOrName: modelId), let current = model.deployments.first(where: { $0.id == deploymentId }) else { return nil }
        let draft = try fields.applied(to: current, keyVariables: keyVariables)
        let stamp = Clock.iso8601(millis: Clock.nowMillis())
        let keyVariables = self.keyVariables
        return try await changeDeployments(modelId: model.id, checking: draft, actor: actor) { list in
            guard let index = list.firstIndex(where: { $0.id == deploymentId }) else { throw ServiceError.notFound("deployment") }
            // Applied again to the fresh list, so a concurrent change of other fields is kept.
            var next = try fields.applied(to: list[index], keyVariables: keyVariables)
            next.updatedAt = stamp
            list[index] = next
            try Self.requireActive(list)
            return (next, .changed)
        }
    }

    /// Removes a deployment; a model keeps at least one active deployment (deactivate the model instead).
    public func removeDeployment(modelId: String, deploymentId: String, actor: AuditLog.Actor) async throws -> Bool {
        guard let model = model(idOrName: modelId), model.deployments.contains(where: { $0.id == deploymentId }) else { return false }
        return try await changeDeployments(modelId: model.id, checking: nil, actor: actor) { list in
            guard let index = list.firstIndex(where: { $0.id == deploymentId }) else { throw ServiceError.notFound("deployment") }
            let removed = list.remove(at: index)
            try Self.requireActive(list)
            return (removed, .removed)
        } != nil
    }

    private static func requireActive(_ list: [Deployment]) throws(ServiceError) {
        if !list.contains(where: \.isActive) {
            throw .conflict("a model needs at least one active deployment; deactivate the model itself instead")
        }
    }

    /// Writes through the store, then puts the model in the snapshot at once (other instances reload it from the change feed).
    private func changeDeployments(
        modelId: String, checking draft: Deployment?, actor: AuditLog.Actor,
        _ change: @escaping @Sendable (inout [Deployment]) throws -> (Deployment, ModelStore.DeploymentChange)
    ) async throws -> (Model, Deployment)? {
        guard let model = model(idOrName: modelId) else { return nil }
        if let draft, let keyId = draft.keyId {
            try await store.checkSharedKey(keyId, provider: draft.provider ?? model.provider)
        }
        return try await applying.withLock {
            guard let result = try await self.store.changeDeployments(modelId: model.id, actor: actor, change) else { return nil }
            self.snapshotBox.withLock { $0.upsert(result.0) }
            return result
        }
    }
}
