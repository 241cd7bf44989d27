import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/webhooks` (admin): the webhooks, a form to add one (its secret shown on the next page only),
/// delete, a test event, and the delivery log; through ``Webhooks`` with the checks `/api/webhooks` makes.
struct ConsoleWebhooksController {
    let pages: ConsolePages
    let webhooks: Webhooks

    /// Rows of the delivery log on the page.
    static let deliveryLimit = 50

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("webhooks", use: list)
        group.post("webhooks", use: create)
        group.post("webhooks/{id}/delete", use: delete)
        group.post("webhooks/{id}/test", use: test)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let notice: String? =
            switch request.uri.queryParameters.get("done") {
            case "deleted": "The webhook was deleted."
            case "test": "A test event was queued; it appears in the delivery log below."
            default: nil
            }
        return try await page(viewer: viewer, form: ConsoleForm(values: ["format": "json"]), errors: FieldErrors(), notice: notice)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        var errors = FieldErrors(labels: ["url": "URL", "events": "Events", "format": "Format"])
        let events = WebhookEvent.Kind.subscribable.filter { form.checked(Self.fieldName($0)) }.map(\.rawValue)
        let fields = errors.check("url") { () throws(ServiceError) in
            try Webhooks.Fields(url: form.text("url"), events: events, format: form.text("format"))
        }
        guard errors.isEmpty, let fields else { return try await page(viewer: viewer, form: form, errors: errors) }
        let created = try await webhooks.create(fields, actor: .init(viewer.principal, requestId: context.requestId))
        return pages.renderer.page(
            "webhook-created", title: "Webhook added", viewer: viewer, current: "/console/webhooks",
            ["url": created.webhook.url, "secret": created.secret])
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        guard let id = context.parameters.get("id"), try await webhooks.delete(id: id, actor: .init(viewer.principal, requestId: context.requestId)) else {
            throw ServiceError.notFound("webhook")
        }
        return ConsoleRenderer.redirect("/console/webhooks?done=deleted")
    }

    @Sendable func test(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await pages.form(request, .admin)
        guard let id = context.parameters.get("id"), try await webhooks.sendTest(id: id) != nil else { throw ServiceError.notFound("webhook") }
        return ConsoleRenderer.redirect("/console/webhooks?done=test")
    }

    private static func fieldName(_ kind: WebhookEvent.Kind) -> String {
        "event-" + kind.rawValue.replacingOccurrences(of: ".", with: "-")
    }

    private func page(viewer: ConsoleViewer, form: ConsoleForm, errors: FieldErrors, notice: String? = nil) async throws -> Response {
        let list = try await webhooks.list()
        let urls = Dictionary(list.map { ($0.id, $0.url) }, uniquingKeysWith: { first, _ in first })
        let rows: [[String: Any]] = list.map {
            [
                "id": $0.id, "url": $0.url, "events": Webhook.stored($0.events).replacingOccurrences(of: ",", with: ", "), "format": $0.format.rawValue,
                "created": String($0.createdAt.prefix(16)).replacingOccurrences(of: "T", with: " "),
            ]
        }
        let deliveries: [[String: Any]] = (try await webhooks.deliveries(webhookId: nil, limit: Self.deliveryLimit) ?? []).map {
            [
                "created": Self.time($0.createdAt), "webhookURL": urls[$0.webhookId] ?? $0.webhookId, "event": $0.event, "status": $0.status.rawValue,
                "attempts": $0.attempts, "lastStatusCode": $0.lastStatusCode.map { String($0) } ?? "", "lastError": $0.lastError ?? "",
                "delivered": $0.deliveredAt.map(Self.time) ?? "",
            ]
        }
        let formats = Webhook.Format.allCases.map {
            ["value": $0.rawValue, "label": $0 == .json ? "JSON event" : "Slack message", "selected": $0.rawValue == (form["format"] ?? "json")] as [String: Any]
        }
        let fields: [[String: Any]] = [
            ConsoleField.text(
                "url", "URL", value: form["url"], error: errors["url"], hint: "http or https, with a host; no user name or password (the rules of a base URL).",
                type: "url"),
            ConsoleField.select("format", "Format", options: formats, error: errors["format"]),
        ]
        let choices = WebhookEvent.Kind.subscribable.map {
            ["name": Self.fieldName($0), "label": $0.rawValue, "checked": form.checked(Self.fieldName($0))] as [String: Any]
        }
        var data: [String: Any] = ["webhooks": rows, "fields": fields, "eventChoices": choices, "deliveries": deliveries, "deliveryLimit": Self.deliveryLimit]
        if let eventsError = errors["events"] { data["eventsError"] = eventsError }
        return pages.renderer.page(
            "webhooks", title: "Webhooks", viewer: viewer, current: "/console/webhooks", status: errors.isEmpty ? .ok : .unprocessableContent,
            errors: errors, notice: notice, data)
    }

    /// `2025-01-02 03:04:05` from an ISO 8601 time.
    private static func time(_ iso: String) -> String {
        String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }
}
