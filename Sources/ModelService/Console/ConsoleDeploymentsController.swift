import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/models/{id}/deployments` (admin): a model's deployments with their weight, share of recent calls and
/// state (active, circuit, out of room), the model's routing, and forms to add, change, switch off and remove a
/// deployment, all through ``ModelRegistry`` exactly as `/api/models/{id}/deployments` uses it.
struct ConsoleDeploymentsController {
    let pages: ConsolePages
    let registry: ModelRegistry
    let traffic: TrafficControl
    let endpoints: UpstreamEndpoints

    static let labels = [
        "provider": "Provider", "baseURL": "Endpoint", "modelId": "Upstream model ID", "keyId": "Stored key id", "keyPool": "Key pool",
        "apiKeyEnvVar": "Key variable", "weight": "Weight", "region": "Region", "rateLimitPerMinute": "Requests per minute",
        "tokenLimitPerMinute": "Tokens per minute", "strategy": "Strategy",
    ]

    static let notices = [
        "added": "The deployment was added.", "saved": "The deployment was saved.", "removed": "The deployment was removed.",
        "routing": "The routing was saved.",
    ]

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("models/{id}/deployments", use: list)
        group.post("models/{id}/deployments", use: add)
        group.post("models/{id}/routing", use: routing)
        group.get("models/{id}/deployments/{deploymentId}", use: editForm)
        group.post("models/{id}/deployments/{deploymentId}", use: update)
        group.post("models/{id}/deployments/{deploymentId}/enable", use: enable)
        group.post("models/{id}/deployments/{deploymentId}/disable", use: disable)
        group.post("models/{id}/deployments/{deploymentId}/delete", use: delete)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let model = try model(context)
        let notice = request.uri.queryParameters.get("done").flatMap { Self.notices[$0] }
        return page(viewer: viewer, model: model, form: ConsoleForm(values: ["weight": "1"]), errors: FieldErrors(labels: Self.labels), notice: notice)
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        let model = try model(context)
        var errors = FieldErrors(labels: Self.labels)
        let fields = Self.fields(from: form, creating: true, errors: &errors)
        if errors.isEmpty {
            do {
                _ = try await registry.addDeployment(modelId: model.id, fields, actor: .init(viewer.principal))
                return ConsoleRenderer.redirect("/console/models/\(model.id)/deployments?done=added")
            } catch let error as ServiceError where error.status < 500 {
                errors.add(error, fallbackField: "modelId")
            }
        }
        return page(viewer: viewer, model: model, form: form, errors: errors)
    }

    @Sendable func editForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let model = try model(context)
        let deployment = try deployment(context, of: model)
        return page(viewer: viewer, model: model, form: Self.values(of: deployment), errors: FieldErrors(labels: Self.labels), editing: deployment)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        let model = try model(context)
        let deployment = try deployment(context, of: model)
        var errors = FieldErrors(labels: Self.labels)
        let fields = Self.fields(from: form, creating: false, errors: &errors)
        if errors.isEmpty {
            do {
                _ = try await registry.updateDeployment(modelId: model.id, deploymentId: deployment.id, fields, actor: .init(viewer.principal))
                return ConsoleRenderer.redirect("/console/models/\(model.id)/deployments?done=saved")
            } catch let error as ServiceError where error.status < 500 {
                errors.add(error, fallbackField: "modelId")
            }
        }
        return page(viewer: viewer, model: model, form: form, errors: errors, editing: deployment)
    }

    @Sendable func enable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await switchActive(request, context, to: true)
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await switchActive(request, context, to: false)
    }

    private func switchActive(_ request: Request, _ context: AppRequestContext, to active: Bool) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let model = try model(context)
        let deployment = try deployment(context, of: model)
        var fields = DeploymentFields()
        fields.isActive = .set(active)
        do {
            _ = try await registry.updateDeployment(modelId: model.id, deploymentId: deployment.id, fields, actor: .init(viewer.principal))
        } catch let error as ServiceError where error.kind == .conflict {
            return page(viewer: viewer, model: model, form: ConsoleForm(values: ["weight": "1"]), errors: FieldErrors(), notice: error.message)
        }
        return ConsoleRenderer.redirect("/console/models/\(model.id)/deployments?done=saved")
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let model = try model(context)
        let deployment = try deployment(context, of: model)
        do {
            _ = try await registry.removeDeployment(modelId: model.id, deploymentId: deployment.id, actor: .init(viewer.principal))
        } catch let error as ServiceError where error.kind == .conflict {
            return page(viewer: viewer, model: model, form: ConsoleForm(values: ["weight": "1"]), errors: FieldErrors(), notice: error.message)
        }
        return ConsoleRenderer.redirect("/console/models/\(model.id)/deployments?done=removed")
    }

    @Sendable func routing(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        let model = try model(context)
        guard let strategy = Routing.Strategy(rawValue: form.text("strategy") ?? "") else {
            var errors = FieldErrors(labels: Self.labels)
            errors.add("strategy", "must be one of \(Routing.Strategy.allCases.map(\.rawValue).joined(separator: ", "))")
            return page(viewer: viewer, model: model, form: ConsoleForm(values: ["weight": "1"]), errors: errors)
        }
        var fields = ModelFields()
        fields.routing = .set(Routing(strategy: strategy, promptCacheAffinity: form.checked("promptCacheAffinity")))
        _ = try await registry.update(id: model.id, fields, actor: .init(viewer.principal))
        return ConsoleRenderer.redirect("/console/models/\(model.id)/deployments?done=routing")
    }

    private func model(_ context: AppRequestContext) throws -> Model {
        guard let id = context.parameters.get("id"), let model = registry.model(idOrName: id) else { throw ServiceError.notFound("model") }
        return model
    }

    private func deployment(_ context: AppRequestContext, of model: Model) throws -> Deployment {
        guard let deployment = model.deployments.first(where: { $0.id == context.parameters.get("deploymentId") }) else {
            throw ServiceError.notFound("deployment")
        }
        return deployment
    }
}
