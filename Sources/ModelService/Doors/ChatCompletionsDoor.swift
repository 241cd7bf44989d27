import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// The OpenAI-compatible chat door: `POST /v1/chat/completions` (JSON or SSE) and `GET /v1/models`.
/// It reads what the pipeline decides on; its codec (``OpenAIChatCodec``) writes the answer.
struct ChatCompletionsDoor {
    let pipeline: CallPipeline
    let registry: ModelRegistry

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("chat/completions", use: chatCompletions)
        group.get("models", use: models)
    }

    struct ModelEntry: Encodable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }

    @Sendable func models(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let encoder = JSONResponse<ModelEntry>.encoder()
        // A scoped token sees only the models it may call.
        var models = registry.models(isActive: true)
        if let restrictions = principal.restrictions { models = models.filter { restrictions.allows($0.name) } }
        let body = try registry.lists.list(models, variant: .openAIEntry, prefix: #"{"data":["#, suffix: #"],"object":"list"}"#) {
            model in
            let created = Saturating.int((Clock.parseISO8601(model.createdAt) ?? Date()).timeIntervalSince1970)
            return Array(try encoder.encode(ModelEntry(id: model.name, created: created, ownedBy: model.provider.rawValue)))
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    @Sendable func chatCompletions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let head = try ChatCompletionRequest(relayHead: bytes)
        var call = CallRequest(
            door: .chatCompletions, principal: principal, modelName: head.model, body: bytes, streaming: head.isStreaming,
            namedUser: request.headers[.xUserId], bodyUser: head.user, requestId: context.requestId, format: OpenAIChatCodec(request: head))
        call.namedTeam = request.headers[.xTeamId]
        call.maxOutputTokens = head.effectiveMaxTokens
        call.outputField = head.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
        call.timeout = Call.clientTimeout(request.headers[.xStainlessTimeout])
        return Response(try await pipeline.start(call))
    }
}
