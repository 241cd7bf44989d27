import Foundation
import Hummingbird
import ModelServiceCore

/// `POST /v1/responses`: OpenAI's Responses API relayed to the providers that have it, streamed and not (``ResponsesCodec``).
struct ResponsesDoor {
    let pipeline: CallPipeline

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("responses", use: responses)
    }

    @Sendable func responses(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let body = try JSONBody.decode(ResponsesRequest.self, from: Data(bytes.readableBytesView))
        if let top = body.topLogprobs, !(0...20).contains(top) { throw ServiceError.invalidRequest("top_logprobs", "must be from 0 to 20") }
        var call = CallRequest(
            door: .responses, principal: principal, modelName: body.model, body: bytes, streaming: body.stream == true,
            namedUser: request.headers[.xUserId], bodyUser: body.user, requestId: context.requestId,
            format: ResponsesCodec(body: bytes, maxLineBytes: pipeline.upstream.maxLineBytes))
        call.namedTeam = request.headers[.xTeamId]
        call.maxOutputTokens = body.maxOutputTokens
        call.outputField = "max_output_tokens"
        call.timeout = Call.clientTimeout(request.headers[.xStainlessTimeout])
        return Response(try await pipeline.start(call))
    }
}
