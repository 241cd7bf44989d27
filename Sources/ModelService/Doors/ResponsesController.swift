import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ModelServiceCore

/// `POST /v1/responses`: OpenAI's Responses API relayed to OpenAI and Azure models, streamed and not.
struct ResponsesController {
    let pipeline: CallPipeline

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post("responses", use: responses)
    }

    @Sendable func responses(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let body = try JSONBody.decode(ResponsesRequest.self, from: Data(bytes.readableBytesView))
        do {
            if let top = body.topLogprobs, !(0...20).contains(top) { throw ServiceError.invalidRequest("top_logprobs", "must be from 0 to 20") }
            let call = try await pipeline.admit(
                door: .responses, modelName: body.model, body: bytes, streaming: body.stream == true, principal: principal,
                namedUser: request.headers[.xUserId], bodyUser: body.user, requestId: context.requestId,
                maxOutputTokens: body.maxOutputTokens, outputField: "max_output_tokens", timeout: Call.clientTimeout(request.headers[.xStainlessTimeout]))
            guard ResponsesUpstream.supports(call.model.provider) else {
                throw ServiceError(
                    .unsupportedProvider,
                    "/v1/responses is relayed to openai and azure models only; '\(call.model.name)' is a \(call.model.provider.rawValue) model: use /v1/chat/completions.",
                    field: "model")
            }
            let settlement = pipeline.settlement(for: call)
            let upstream = pipeline.upstream
            if !call.streaming {
                let (model, answer) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                    (candidate, try await ResponsesUpstream.send(clientJSON: bytes, target: target, client: upstream))
                }
                let (out, usage) = ResponsesUpstream.patchModel(answer, model: model.name)
                settlement.received(bytes: out.readableBytes)
                settlement.settle(.success(usage))
                return Response(status: .ok, headers: [.contentType: "application/json", .xModelServiceModel: model.name], body: .init(byteBuffer: out))
            }
            let (model, response) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                (candidate, try await ResponsesUpstream.open(clientJSON: bytes, target: target, client: upstream))
            }
            return Self.relayStream(response.body, model: model, settlement: settlement, maxLineBytes: upstream.maxLineBytes, logger: context.logger)
        } catch let error as ServiceError {
            throw error
        }
    }

    /// Relays the upstream's SSE events, `model` patched, reading the usage from the final `response.*` event.
    static func relayStream(
        _ body: HTTPClientResponse.Body, model: Model, settlement: CallSettlement, maxLineBytes: Int, logger: Logger
    ) -> Response {
        let responseBody = ResponseBody { writer in
            var parser = ServerSentEventParser(maxLineBytes: maxLineBytes)
            var usage: Usage?
            func frames(_ events: [ServerSentEvent]) -> ByteBuffer {
                var out = ByteBuffer()
                for event in events {
                    let (json, eventUsage) = ResponsesUpstream.patchModel(event.data, model: model.name)
                    if let eventUsage { usage = eventUsage }
                    if let name = event.event { out.writeString("event: \(name)\n") }
                    out.writeString("data: ")
                    out.writeImmutableBuffer(json)
                    out.writeString("\n\n")
                }
                return out
            }
            do {
                for try await buffer in body {
                    let out = frames(try parser.push(buffer))
                    guard out.readableBytes > 0 else { continue }
                    settlement.received(bytes: out.readableBytes)
                    try await writer.write(out)
                }
                let rest = frames(parser.finish())
                if rest.readableBytes > 0 { try await writer.write(rest) }
                settlement.settle(.success(usage))
            } catch {
                let providerError = UpstreamClient.providerError(for: error, apiKey: nil)
                if let providerError = providerError as? ProviderError {
                    // The 200 is already sent: say it in the stream, as the Responses API does.
                    let failure = ServiceError(providerError, model: model, key: nil)
                    settlement.settle(.failed(failure))
                    let event = ["type": "error", "code": failure.code, "message": failure.message]
                    if let json = try? ProviderJSON.encode(event) {
                        var out = ByteBuffer(string: "event: error\ndata: ")
                        out.writeBytes(json)
                        out.writeString("\n\n")
                        try? await writer.write(out)
                    }
                } else {
                    settlement.settle(.clientGone(usage))
                    logger.debug("responses stream ended early", metadata: ["error.type": "\(type(of: error))"])
                }
            }
            try await writer.finish(nil)
        }
        return Response.eventStream(answeredBy: model, body: responseBody)
    }
}
