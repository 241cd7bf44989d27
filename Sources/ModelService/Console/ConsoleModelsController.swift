import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/models`: the registry's table, its form, and the one-click actions, all through
/// ``ModelRegistry`` exactly as `/api/models` uses it.
struct ConsoleModelsController {
    let pages: ConsolePages
    let registry: ModelRegistry
    let pipeline: CallPipeline

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("models", use: list)
        group.get("models/new", use: newForm)
        group.post("models/new", use: create)
        group.get("models/{id}", use: editForm)
        group.post("models/{id}", use: update)
        group.post("models/{id}/enable", use: enable)
        group.post("models/{id}/disable", use: disable)
        group.post("models/{id}/default", use: makeDefault)
        group.get("models/{id}/delete", use: confirmDelete)
        group.post("models/{id}/delete", use: delete)
        group.post("models/{id}/test", use: test)
    }

    /// Models per page: the page stays small at 10,000 models (the filters narrow it further).
    static let perPage = 50

    static let notices = [
        "created": "The model was created.", "saved": "The model was saved.", "enabled": "The model was enabled.",
        "disabled": "The model was disabled.", "default": "The default model was set.", "deleted": "The model was deleted.",
    ]

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let query = request.uri.queryParameters
        let search = query.get("q")?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let provider = query.get("provider").flatMap { ProviderKind(name: $0) }
        let status = query.get("status") ?? ""
        let page = ConsolePages.pageNumber(request)
        // Filtered and paged here, on the registry's snapshot (already in provider, name order): one page is rendered.
        let snapshot = registry.snapshot
        let isActive = status == "active" ? true : (status == "inactive" ? false : nil)
        let shown = snapshot.models.filter { model in
            (provider == nil || model.provider == provider) && (isActive == nil || model.isActive == isActive)
                && (search.isEmpty || model.name.lowercased().contains(search) || model.modelId.lowercased().contains(search))
        }
        let first = min(Saturating.multiply(page - 1, Self.perPage), shown.count)
        let onPage = shown[first..<min(first + Self.perPage, shown.count)]
        let rows: [[String: Any]] = onPage.map { model in
            [
                "id": model.id, "name": model.name, "provider": model.provider.consoleName, "modelId": model.modelId,
                "prices": model.prices.map { "\(ConsoleField.money($0.rates.input)) / \(ConsoleField.money($0.rates.output))" } ?? "", "priced": model.prices != nil,
                "isActive": model.isActive, "isDefault": model.isDefault, "deploymentCount": model.deployments.count,
            ]
        }
        let statusOptions = [("", "Any status"), ("active", "Active"), ("inactive", "Inactive")].map {
            ["value": $0.0, "label": $0.1, "selected": $0.0 == status] as [String: Any]
        }
        var data: [String: Any] = [
            "models": rows, "count": shown.count, "total": snapshot.models.count, "q": query.get("q") ?? "",
            "paged": shown.count > Self.perPage, "firstShown": first + 1, "lastShown": first + onPage.count,
            "providerOptions": ProviderKind.consoleOptions(selected: provider?.rawValue), "statusOptions": statusOptions,
        ]
        let filters = [("q", query.get("q") ?? ""), ("provider", provider?.rawValue ?? ""), ("status", status)].filter { !$0.1.isEmpty }
        func link(_ page: Int) -> String {
            var components = URLComponents()
            components.path = "/console/models"
            components.queryItems = filters.map { URLQueryItem(name: $0.0, value: $0.1) } + [URLQueryItem(name: "page", value: String(page))]
            return components.string ?? "/console/models"
        }
        if first + Self.perPage < shown.count, page < ConsolePages.maxPage { data["nextPage"] = link(page + 1) }
        if page > 1 { data["previousPage"] = link(min(page - 1, max(1, (shown.count + Self.perPage - 1) / Self.perPage))) }
        return pages.renderer.page(
            "models", title: "Models", viewer: viewer, current: "/console/models", notice: query.get("done").flatMap { Self.notices[$0] }, data)
    }

    @Sendable func newForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let form = ConsoleForm(values: ["isActive": "true", "supportsStreaming": "true", "mode": "chat",
                                        "providerSettings": "{}", "priceTiers": "[]"])
        return formPage(viewer: viewer, model: nil, form: form, errors: FieldErrors())
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        var errors = FieldErrors(labels: ConsoleModelForm.labels)
        let fields = ConsoleModelForm.fields(from: form, existing: nil, registry: registry, errors: &errors)
        if errors.isEmpty {
            do {
                _ = try await registry.create(fields, actor: .init(viewer.principal))
                return ConsoleRenderer.redirect("/console/models?done=created")
            } catch let error as ServiceError where error.status < 500 {
                errors.add(error, fallbackField: "name")
            }
        }
        return formPage(viewer: viewer, model: nil, form: form, errors: errors)
    }

    @Sendable func editForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let model = try model(context)
        return formPage(viewer: viewer, model: model, form: ConsoleModelForm.values(of: model), errors: FieldErrors())
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        let model = try model(context)
        var errors = FieldErrors(labels: ConsoleModelForm.labels)
        let fields = ConsoleModelForm.fields(from: form, existing: model, registry: registry, errors: &errors)
        if errors.isEmpty {
            do {
                guard try await registry.update(id: model.id, fields, actor: .init(viewer.principal)) != nil else { throw ServiceError.notFound("model") }
                return ConsoleRenderer.redirect("/console/models?done=saved")
            } catch let error as ServiceError where error.status < 500 && error.kind != .notFound {
                errors.add(error, fallbackField: "name")
            }
        }
        return formPage(viewer: viewer, model: model, form: form, errors: errors)
    }

    @Sendable func enable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await change(request, context, notice: "enabled") { $0.isActive = .set(true) }
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await change(request, context, notice: "disabled") { $0.isActive = .set(false) }
    }

    @Sendable func makeDefault(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await change(request, context, notice: "default") { $0.isDefault = .set(true) }
    }

    /// A one-field change through the same update the API's PATCH makes.
    private func change(_ request: Request, _ context: AppRequestContext, notice: String, _ edit: (inout ModelFields) -> Void) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let model = try model(context)
        var fields = ModelFields()
        edit(&fields)
        guard try await registry.update(id: model.id, fields, actor: .init(viewer.principal)) != nil else { throw ServiceError.notFound("model") }
        return ConsoleRenderer.redirect("/console/models?done=\(notice)")
    }

    @Sendable func confirmDelete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let model = try model(context)
        return pages.renderer.page(
            "model-delete", title: "Delete \(model.name)", viewer: viewer, current: "/console/models",
            ["id": model.id, "name": model.name, "provider": model.provider.consoleName]
        )
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let model = try model(context)
        guard try await registry.delete(id: model.id, actor: .init(viewer.principal)) else { throw ServiceError.notFound("model") }
        return ConsoleRenderer.redirect("/console/models?done=deleted")
    }

    @Sendable func test(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let model = try model(context)
        let outcome = await ConsoleGatewayProbe.run(model: model, principal: viewer.principal, pipeline: pipeline)
        var data: [String: Any] = [
            "prompt": ConsoleGatewayProbe.prompt, "latency": outcome.latencyMs,
            "cost": outcome.cost.map(ConsoleField.money) ?? "not known",
            "tokens": outcome.promptTokens.map { "\($0) in, \(outcome.completionTokens ?? 0) out" } ?? "not known",
        ]
        if let answer = outcome.answer { data["answer"] = answer }
        if let error = outcome.error { data["error"] = error }
        return pages.renderer.page("model-test", title: "Test of \(model.name)", viewer: viewer, current: "/console/models", data)
    }

    private func model(_ context: AppRequestContext) throws -> Model {
        guard let id = context.parameters.get("id"), let model = registry.model(idOrName: id) else { throw ServiceError.notFound("model") }
        return model
    }

    private func formPage(viewer: ConsoleViewer, model: Model?, form: ConsoleForm, errors: FieldErrors) -> Response {
        var data: [String: Any] = [
            "action": model.map { "/console/models/\($0.id)" } ?? "/console/models/new", "fields": ConsoleModelForm.layout(form, errors: errors),
        ]
        if let model {
            // The model page lists its deployments; they are changed on their own page.
            let deployments = ConsoleDeploymentsController(pages: pages, registry: registry, traffic: pipeline.traffic, endpoints: pipeline.endpoints)
            data["deployments"] = deployments.rows(for: model)
            data["modelId"] = model.id
            data["strategy"] = ConsoleDeploymentsController.strategyLabel(model.routing.strategy)
            data["affinity"] = model.routing.promptCacheAffinity
        }
        return pages.renderer.page(
            "model-form", title: model.map { "Edit \($0.name)" } ?? "New model", viewer: viewer, current: "/console/models",
            status: errors.isEmpty ? .ok : .unprocessableContent, errors: errors, data)
    }
}
