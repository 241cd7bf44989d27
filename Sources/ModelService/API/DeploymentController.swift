import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/models/{id}/deployments[/{deploymentId}]` (admin): the ways a model is called. Answers show each
/// deployment as calls use it: fields it leaves to the model are filled in from the model, and `followsModel`
/// names them. No key value is ever shown, only the stored key's id, the pool, or the variable's name.
struct DeploymentController {
    let registry: ModelRegistry
    let endpoints: UpstreamEndpoints

    struct View: Encodable {
        var id: String
        var provider: ProviderKind
        var baseURL: String
        var modelId: String
        var keyId: String?
        var keyPool: Deployment.KeyPool?
        var apiKeyEnvVar: String?
        var weight: Int
        var region: String?
        var rateLimitPerMinute: Int?
        var tokenLimitPerMinute: Int?
        var isActive: Bool
        var followsModel: [String]
        var createdAt: String?
        var updatedAt: String?
    }

    struct Listing: Encodable {
        var model: String
        var routing: Routing
        var deployments: [View]
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        for prefix in ["{id}", "{id}/{rest}"] {
            group.get(RouterPath(prefix + "/deployments"), use: list)
            group.post(RouterPath(prefix + "/deployments"), use: create)
            group.get(RouterPath(prefix + "/deployments/{deploymentId}"), use: show)
            group.patch(RouterPath(prefix + "/deployments/{deploymentId}"), use: update)
            group.delete(RouterPath(prefix + "/deployments/{deploymentId}"), use: delete)
        }
    }

    func view(_ deployment: Deployment, of model: Model) -> View {
        let called = model.deployed(on: deployment)
        var follows: [String] = []
        if deployment.provider == nil { follows.append("provider") }
        if deployment.baseURL == nil { follows.append("baseURL") }
        if deployment.modelId == nil { follows.append("modelId") }
        if deployment.keyId == nil, deployment.keyPool == nil, deployment.apiKeyEnvVar == nil { follows.append("apiKeyEnvVar") }
        return View(
            id: deployment.id, provider: called.provider, baseURL: endpoints.baseURL(for: called), modelId: called.modelId,
            keyId: deployment.keyId, keyPool: deployment.keyPool,
            apiKeyEnvVar: deployment.keyId == nil && deployment.keyPool == nil ? called.fallbackKeyEnvVar : nil,
            weight: deployment.weight, region: deployment.region, rateLimitPerMinute: deployment.rateLimitPerMinute,
            tokenLimitPerMinute: deployment.tokenLimitPerMinute, isActive: deployment.isActive, followsModel: follows,
            createdAt: deployment.createdAt, updatedAt: deployment.updatedAt)
    }

    private func model(_ context: AppRequestContext) throws -> Model {
        guard let model = registry.model(idOrName: ModelController.identifier(context)) else { throw ServiceError.notFound("model") }
        return model
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Listing> {
        _ = try context.requireAdmin()
        let model = try model(context)
        return JSONResponse(Listing(model: model.name, routing: model.routing, deployments: model.deployments.map { view($0, of: model) }))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<View> {
        _ = try context.requireAdmin()
        let model = try model(context)
        guard let deployment = model.deployments.first(where: { $0.id == context.parameters.get("deploymentId") }) else {
            throw ServiceError.notFound("deployment")
        }
        return JSONResponse(view(deployment, of: model))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<View> {
        let principal = try context.requireAdmin()
        let model = try model(context)
        let fields = try await request.decodeJSON(as: DeploymentFields.self, context: context)
        guard let (updated, deployment) = try await registry.addDeployment(modelId: model.id, fields, actor: .init(principal)) else {
            throw ServiceError.notFound("model")
        }
        return JSONResponse(view(deployment, of: updated), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<View> {
        let principal = try context.requireAdmin()
        let model = try model(context)
        let fields = try await request.decodeJSON(as: DeploymentFields.self, context: context)
        guard
            let (updated, deployment) = try await registry.updateDeployment(
                modelId: model.id, deploymentId: context.parameters.get("deploymentId") ?? "", fields, actor: .init(principal))
        else { throw ServiceError.notFound("deployment") }
        return JSONResponse(view(deployment, of: updated))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireAdmin()
        let model = try model(context)
        guard try await registry.removeDeployment(modelId: model.id, deploymentId: context.parameters.get("deploymentId") ?? "", actor: .init(principal))
        else { throw ServiceError.notFound("deployment") }
        return Response(status: .noContent)
    }
}
