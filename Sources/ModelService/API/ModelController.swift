import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/models`: reads for any token (from memory), writes for admins.
struct ModelController {
    let registry: ModelRegistry

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.post(use: create)
        group.get("stats", use: stats)
        for path: RouterPath in ["{id}/prices", "{id}/{rest}/prices"] { group.get(path, use: prices) }
        // Names such as `openai/gpt-4o` hold a slash: accept it raw (two segments) or percent-encoded (one).
        for path: RouterPath in ["{id}", "{id}/{rest}"] {
            group.get(path, use: show)
            group.patch(path, use: update)
            group.delete(path, use: delete)
        }
    }

    static func identifier(_ context: AppRequestContext) -> String {
        let parts = [context.parameters.get("id"), context.parameters.get("rest")].compactMap { $0 }
        let joined = parts.joined(separator: "/")
        return joined.removingPercentEncoding ?? joined
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        var provider: ProviderKind?
        if let name = request.uri.queryParameters.get("provider") {
            guard let kind = ProviderKind(name: String(name)) else {
                throw ServiceError.invalidField("provider", "unknown provider '\(name)'; known providers: \(ProviderKind.knownList)")
            }
            provider = kind
        }
        let models = registry.models(provider: provider, isActive: try request.boolQuery("isActive"))
        let encoder = JSONResponse<ModelView>.encoder()
        let body = try registry.lists.list(models, variant: principal.isAdmin ? .full : .publicView, prefix: "[", suffix: "]") { model in
            Array(try encoder.encode(ModelView(model, for: principal)))
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ModelStats> {
        _ = try context.requirePrincipal()
        return JSONResponse(registry.stats())
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ModelView> {
        let principal = try context.requirePrincipal()
        guard let model = registry.model(idOrName: Self.identifier(context)) else { throw ServiceError.notFound("model") }
        return JSONResponse(ModelView(model, for: principal))
    }

    /// Every price the model has had, newest first: what explains the cost of older usage records.
    @Sendable func prices(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[PriceChange]> {
        _ = try context.requirePrincipal()
        guard let model = registry.model(idOrName: Self.identifier(context)) else { throw ServiceError.notFound("model") }
        return JSONResponse(try await registry.priceHistory(modelId: model.id))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Model> {
        let principal = try context.requireAdmin()
        let fields = try await request.decodeJSON(as: ModelFields.self, context: context)
        return JSONResponse(try await registry.create(fields, actor: .init(principal)), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Model> {
        let principal = try context.requireAdmin()
        guard let existing = registry.model(idOrName: Self.identifier(context)) else { throw ServiceError.notFound("model") }
        let fields = try await request.decodeJSON(as: ModelFields.self, context: context)
        guard let model = try await registry.update(id: existing.id, fields, actor: .init(principal)) else { throw ServiceError.notFound("model") }
        return JSONResponse(model)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireAdmin()
        guard let existing = registry.model(idOrName: Self.identifier(context)),
            try await registry.delete(id: existing.id, actor: .init(principal))
        else { throw ServiceError.notFound("model") }
        return Response(status: .noContent)
    }
}
