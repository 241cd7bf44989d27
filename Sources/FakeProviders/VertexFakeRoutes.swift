import Foundation
import Hummingbird

/// Vertex AI under `/vertex`: the token endpoint (`/vertex/token`, ``FakeVertexAuthority``), and per model
/// `/vertex/v1/projects/{p}/locations/{r}/publishers/{google|anthropic}/models/{model}:{method}`, whose bodies and answers are
/// the Gemini and Anthropic fakes' own; every model route wants `Authorization: Bearer <a token issued here, not expired>`.
struct VertexFakeRoutes {
    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline, authority: FakeVertexAuthority) {
        let gemini = VertexDialect(authority: authority, inner: GeminiFakeRoutes())
        let anthropic = VertexDialect(authority: authority, inner: AnthropicFakeRoutes())
        let group = router.group("vertex")
        group.post("token") { request, _ in
            let form = try await request.body.collect(upTo: 64 * 1024)
            return authority.tokenResponse(form: String(buffer: form))
        }
        let publishers = group.group("v1/projects/:project/locations/:region/publishers")
        publishers.post("google/models/:modelAction") { request, context in
            try await pipeline.chat(request, context: context, dialect: gemini)
        }
        publishers.get("google/models") { request, _ in
            try await pipeline.authorized(request, dialect: gemini) {
                guard let token = request.bearerToken, authority.accepts(token) else { return gemini.errorResponse(.invalidKey("")) }
                return GeminiFakeRoutes().modelList()
            }
        }
        publishers.post("anthropic/models/:modelAction") { request, context in
            let (model, method) = GeminiFakeRoutes.modelAndMethod(context.parameters.get("modelAction") ?? "") ?? ("", "")
            if model == "count-tokens", method == "rawPredict" {
                return try await pipeline.json(request, dialect: anthropic) { json in try AnthropicFakeRoutes().countTokens(json) }
            }
            return try await pipeline.chat(request, context: context, dialect: anthropic)
        }
    }
}

/// A Gemini or Anthropic fake behind Vertex's door: Google's Bearer tokens instead of API keys, Google's 401, and for
/// Anthropic the model from the URL (a `model` member is refused) and `anthropic_version: vertex-2023-10-16` required.
struct VertexDialect<Inner: FakeDialect>: FakeDialect {
    let authority: FakeVertexAuthority
    let inner: Inner

    var provider: FakeProvider { .vertex }

    func apiKey(in request: Request) -> String? { request.bearerToken }

    func precheck(_ request: Request) throws(FakeFailure) {
        guard let token = request.bearerToken else { throw .missingKey }
        guard authority.accepts(token) else { throw .invalidKey("expired or unknown access token") }
    }

    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat {
        guard inner.provider == .anthropic else { return try inner.parseChat(json, request: request, context: context) }
        guard let (model, method) = GeminiFakeRoutes.modelAndMethod(context.parameters.get("modelAction") ?? ""),
            method == "rawPredict" || method == "streamRawPredict"
        else { throw .notFound("Method not found.") }
        guard json["model"] == nil else { throw .badRequest("model: Extra inputs are not permitted (the URL names the model)") }
        guard json["anthropic_version"] as? String == "vertex-2023-10-16" else { throw .badRequest("anthropic_version: Field required (vertex-2023-10-16)") }
        var named = json
        named["model"] = model
        let chat = try inner.parseChat(named, request: request, context: context)
        guard chat.stream == (method == "streamRawPredict") else { throw .badRequest("stream must be true for streamRawPredict only") }
        return chat
    }

    func errorResponse(_ failure: FakeFailure) -> Response {
        switch failure {
        case .missingKey, .invalidKey:
            // Google's answer to a missing, unknown or expired token, whatever the publisher.
            let message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
            return FakeJSON.response(["error": ["code": 401, "message": message, "status": "UNAUTHENTICATED"]], status: .unauthorized)
        default:
            return inner.errorResponse(failure)
        }
    }

    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response { inner.completeResponse(chat: chat, reply: reply) }

    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer] { inner.streamChunks(chat: chat, reply: reply, request: request) }

    func streamContentType(request: Request) -> String { inner.streamContentType(request: request) }
}
