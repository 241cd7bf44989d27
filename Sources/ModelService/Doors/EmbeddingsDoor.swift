import Foundation
import Hummingbird
import ModelServiceCore

/// `POST /v1/embeddings` in OpenAI's format, for every provider with an embeddings API (``EmbeddingsCodec``).
struct EmbeddingsDoor {
    let pipeline: CallPipeline

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("embeddings", use: embeddings)
    }

    @Sendable func embeddings(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        var body = try JSONBody.decode(EmbeddingRequest.self, from: Data(bytes.readableBytesView))
        body.clientJSON = bytes
        try EmbeddingsCodec.validate(body)
        var call = CallRequest(
            door: .embeddings, principal: principal, modelName: body.model, body: bytes, streaming: false, namedUser: request.headers[.xUserId],
            bodyUser: body.user, requestId: context.requestId, format: EmbeddingsCodec(request: body))
        call.namedTeam = request.headers[.xTeamId]
        call.timeout = Call.clientTimeout(request.headers[.xStainlessTimeout])
        return Response(try await pipeline.start(call))
    }
}
