import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The OpenAI-compatible endpoints: `POST /v1/chat/completions` (JSON or SSE) and `GET /v1/models`.
struct GatewayController {
    let gateway: ChatGateway
    let registry: ModelRegistry

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("chat/completions", use: chatCompletions)
        group.get("models", use: models)
    }

    struct ModelList: Encodable {
        struct Entry: Encodable {
            var id: String
            var object = "model"
            var created: Int
            var ownedBy: String

            enum CodingKeys: String, CodingKey {
                case id, object, created
                case ownedBy = "owned_by"
            }
        }
        var object = "list"
        var data: [Entry]
    }

    @Sendable func models(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ModelList> {
        _ = try context.requirePrincipal()
        let entries = registry.models(isActive: true).map { model in
            ModelList.Entry(
                id: model.name,
                created: Int((Clock.parseISO8601(model.createdAt) ?? Date()).timeIntervalSince1970),
                ownedBy: model.provider.rawValue
            )
        }
        return JSONResponse(ModelList(data: entries))
    }

    @Sendable func chatCompletions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(as: ChatCompletionRequest.self, context: context)
        if body.messages.isEmpty { throw APIError.invalidField("messages", "must contain at least one message") }
        let call = try gateway.prepare(body, principal: principal, namedUser: request.headers[.xUserId])
        context.logger.debug("gateway call", metadata: ["model": "\(call.model.name)", "key.source": "\(call.key.source.rawValue)"])
        guard body.isStreaming else {
            let answer = try await gateway.complete(call)
            // The upstream's own bytes when the format is already OpenAI's, else encoded straight into a buffer.
            let body = try answer.value.upstreamJSON ?? ProviderJSON.encodeBuffer(answer.value)
            return Response(
                status: .ok, headers: [.contentType: "application/json", .xModelServiceModel: answer.model.name], body: .init(byteBuffer: body))
        }
        let answer = try await gateway.stream(call)
        let stream = answer.value
        let gateway = self.gateway
        let logger = context.logger
        let responseBody = ResponseBody { writer in
            var failure: (any Error)?
            do {
                for try await chunk in stream {
                    try await writer.write(try SSEWriter.sseFrame(for: chunk))
                }
                try await writer.write(SSEWriter.doneBuffer)
            } catch let error as ProviderError {
                // Mid-stream upstream failure: the status is already 200, so say it in the stream.
                failure = error
                if let json = try? GatewayError.from(error).jsonBody() {
                    try? await writer.write(SSEWriter.frame(json))
                }
                try? await writer.write(SSEWriter.doneBuffer)
            } catch {
                // The client went away (or the task was cancelled): leaving the loop cancels the upstream request.
                failure = error
                logger.debug("stream ended early", metadata: ["error.type": "\(type(of: error))"])
            }
            await gateway.finishStream(answer, usage: stream.usage, error: failure)
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no",
                .xModelServiceModel: answer.model.name,
            ],
            body: responseBody
        )
    }
}

extension HTTPField.Name {
    /// Names the user a service or admin token calls for.
    static let xUserId = Self("X-User-Id")!
    /// Names the registry model that answered (a fallback may have).
    static let xModelServiceModel = Self("X-Model-Service-Model")!
}
