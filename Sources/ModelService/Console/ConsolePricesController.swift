import Foundation
import Hummingbird
import ModelServiceCore

/// `/console/prices` (admin): the price-map import `model-service prices import FILE` staged, change by
/// change, with Apply and Discard (``PriceImports``): the console's way of approving an import.
struct ConsolePricesController {
    let pages: ConsolePages
    let registry: ModelRegistry
    let imports: PriceImports

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("prices", use: show)
        group.post("prices/{id}/apply", use: apply)
        group.post("prices/{id}/discard", use: discard)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let query = request.uri.queryParameters
        var notice: String?
        switch query.get("done") {
        case "applied":
            let applied = Int(query.get("applied") ?? "") ?? 0
            let skipped = Int(query.get("skipped") ?? "") ?? 0
            notice = "Applied \(applied) price change\(applied == 1 ? "" : "s")"
                + (skipped > 0 ? "; \(skipped) skipped because their model changed or went since the import." : ".")
        case "discarded": notice = "The import was discarded; no price changed."
        default: break
        }
        var data: [String: Any] = [:]
        if let staged = try await imports.pending() {
            data["pending"] = [
                "id": staged.id, "source": staged.source, "created": Clock.iso8601(millis: staged.createdAt).prefix(16).replacingOccurrences(of: "T", with: " "),
                "applicable": staged.changes.filter { $0.kind != "gone" }.count,
                "changes": staged.changes.map { change -> [String: Any] in
                    [
                        "kind": change.kind, "model": change.modelName, "current": ModelPrices.summary(change.current),
                        "proposed": change.kind == "gone" ? "no entry in the map: left as it is" : ModelPrices.summary(change.proposed),
                        "key": change.key ?? "",
                    ]
                },
            ] as [String: Any]
        }
        return pages.renderer.page("prices", title: "Prices", viewer: viewer, current: "/console/prices", notice: notice, data)
    }

    @Sendable func apply(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await decide(request, context: context, apply: true)
    }

    @Sendable func discard(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await decide(request, context: context, apply: false)
    }

    private func decide(_ request: Request, context: AppRequestContext, apply: Bool) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let id = try context.parameters.require("id")
        guard let outcome = try await imports.decide(id: id, apply: apply, registry: registry, actor: .init(viewer.principal, requestId: context.requestId))
        else { throw ServiceError.notFound("price import") }
        return ConsoleRenderer.redirect(
            apply ? "/console/prices?done=applied&applied=\(outcome.applied.count)&skipped=\(outcome.skipped.count)" : "/console/prices?done=discarded")
    }
}
