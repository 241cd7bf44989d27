import Foundation
import Hummingbird
import ModelServiceCore
import NIOCore

/// Anthropic's front door: `POST /v1/messages` (JSON or SSE) and `POST /v1/messages/count_tokens`, for every
/// registry model (``AnthropicMessagesCodec``). Errors come in Anthropic's shape (the route group's
/// ``ErrorMiddleware``).
struct MessagesDoor {
    let pipeline: CallPipeline

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: messages)
        group.post("count_tokens", use: countTokens)
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (call, _) = try await read(request, context: context, streaming: true)
        return Response(try await pipeline.start(call))
    }

    /// Relayed (free) at Anthropic, so no usage record; for another provider's model, an estimate of about
    /// four characters per token over the system prompt, messages and tools.
    @Sendable func countTokens(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (call, headers) = try await read(request, context: context, streaming: false)
        if let counted = try await pipeline.countTokens(call, headers: headers) {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: counted))
        }
        let body = try JSONBody.decode(JSONValue.self, from: Data(call.body.readableBytesView))
        guard body["messages"]?.arrayValue != nil else { throw ServiceError.invalidRequest("messages", "is required") }
        let count: JSONValue = .object(["input_tokens": .number(Double(AnthropicTokenEstimate.inputTokens(body)))])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: try ProviderJSON.encodeBuffer(count)))
    }

    /// The call as the pipeline needs it; `streaming` false for `count_tokens`, whose body may say `stream`.
    private func read(_ request: Request, context: AppRequestContext, streaming: Bool) async throws -> (CallRequest, AnthropicClientHeaders) {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let fields = try JSONBody.decode(AnthropicMessagesFields.self, from: Data(bytes.readableBytesView))
        try fields.validate()
        let headers = AnthropicClientHeaders(version: request.headers[.anthropicVersion], beta: request.headers[.anthropicBeta])
        var call = CallRequest(
            door: .messages, principal: principal, modelName: fields.model, body: bytes, streaming: streaming && fields.stream == true,
            namedUser: request.headers[.xUserId], bodyUser: fields.metadata?.userId, requestId: context.requestId,
            format: AnthropicMessagesCodec(body: bytes, headers: headers, canonical: nil))
        call.namedTeam = request.headers[.xTeamId]
        if streaming { call.maxOutputTokens = fields.maxTokens }
        call.timeout = Call.clientTimeout(request.headers[.xStainlessTimeout])
        return (call, headers)
    }
}
