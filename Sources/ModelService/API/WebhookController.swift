import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/webhooks` (admin): alert webhooks and their delivery log. The signing secret is in the answer to
/// the create only; nothing else ever shows it.
struct WebhookController {
    let webhooks: Webhooks

    struct Body: Decodable {
        var url: String?
        var events: [String]?
        var format: String?
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.delete("{id}", use: delete)
        group.get("{id}/deliveries", use: deliveries)
        group.post("{id}/test", use: test)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CreatedWebhook> {
        let principal = try context.requireAdmin()
        let body = try await request.decodeJSON(as: Body.self, context: context)
        let fields = try Webhooks.Fields(url: body.url, events: body.events, format: body.format)
        return JSONResponse(try await webhooks.create(fields, actor: .init(principal, requestId: context.requestId)), status: .created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[Webhook]> {
        _ = try context.requireAdmin()
        return JSONResponse(try await webhooks.list())
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requireAdmin()
        guard try await webhooks.delete(id: try context.parameters.require("id"), actor: .init(principal, requestId: context.requestId)) else {
            throw ServiceError.notFound("webhook")
        }
        return Response(status: .noContent)
    }

    /// Newest first; `limit` 1 to 200 (default 50).
    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[WebhookDelivery]> {
        _ = try context.requireAdmin()
        var limit = 50
        if let raw = request.uri.queryParameters.get("limit") {
            guard let value = Int(raw), (1...Webhooks.maxListedDeliveries).contains(value) else {
                throw ServiceError.invalidField("limit", "must be a whole number from 1 to \(Webhooks.maxListedDeliveries)")
            }
            limit = value
        }
        guard let list = try await webhooks.deliveries(webhookId: try context.parameters.require("id"), limit: limit) else {
            throw ServiceError.notFound("webhook")
        }
        return JSONResponse(list)
    }

    /// Queues a `test` event for this webhook; answers its delivery (202: sent by the dispatcher shortly).
    @Sendable func test(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<WebhookDelivery> {
        _ = try context.requireAdmin()
        guard let delivery = try await webhooks.sendTest(id: try context.parameters.require("id")) else { throw ServiceError.notFound("webhook") }
        return JSONResponse(delivery, status: .accepted)
    }
}
