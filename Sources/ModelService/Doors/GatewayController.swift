import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ModelServiceCore

/// The OpenAI-compatible chat door: `POST /v1/chat/completions` (JSON or SSE) and `GET /v1/models`.
struct GatewayController {
    let pipeline: CallPipeline
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

    @Sendable func models(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let encoder = JSONResponse<ModelList.Entry>.encoder()
        let body = try registry.lists.list(registry.models(isActive: true), variant: .openAIEntry, prefix: #"{"data":["#, suffix: #"],"object":"list"}"#) {
            model in
            let created = Saturating.int((Clock.parseISO8601(model.createdAt) ?? Date()).timeIntervalSince1970)
            return Array(try encoder.encode(ModelList.Entry(id: model.name, created: created, ownedBy: model.provider.rawValue)))
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    @Sendable func chatCompletions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        var body = try ChatCompletionRequest(relayHead: bytes)
        if !pipeline.relaysOpenAIChat(modelName: body.model) {
            // A candidate needs the request translated: decode it all (messages, parts, tools).
            body = try JSONBody.decode(ChatCompletionRequest.self, from: Data(bytes.readableBytesView))
            if body.messages.isEmpty { throw ServiceError.invalidField("messages", "must contain at least one message") }
            body.clientJSON = bytes
        }
        do {
            let call = try await pipeline.admit(
                door: .chatCompletions, modelName: body.model, body: bytes, streaming: body.isStreaming, principal: principal,
                namedUser: request.headers[.xUserId], bodyUser: body.user, requestId: context.requestId, maxOutputTokens: body.effectiveMaxTokens,
                outputField: body.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens",
                timeout: Call.clientTimeout(request.headers[.xStainlessTimeout]))
            let settlement = pipeline.settlement(for: call)
            let upstream = pipeline.upstream
            let clientBody = body
            if !call.streaming {
                let (model, answer) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                    let adapter = ProviderAdapters.adapter(for: candidate.provider)
                    return (candidate, try await adapter.complete(ChatDefaults.apply(to: clientBody, model: candidate), target: target, client: upstream))
                }
                let out: ByteBuffer
                if let relayed = answer.upstreamJSON {
                    // Same wire format: the upstream's bytes with only `model` changed.
                    out = ModelNamePatch.apply(relayed, model: model.name)
                } else {
                    var answer = answer
                    answer.model = model.name
                    out = try ProviderJSON.encodeBuffer(answer)
                }
                settlement.received(bytes: out.readableBytes)
                settlement.settle(.success(answer.usage))
                return Response(status: .ok, headers: [.contentType: "application/json", .xModelServiceModel: model.name], body: .init(byteBuffer: out))
            }
            let (model, stream) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                let adapter = ProviderAdapters.adapter(for: candidate.provider)
                return (candidate, try await adapter.stream(ChatDefaults.apply(to: clientBody, model: candidate), target: target, client: upstream))
            }
            return Self.streamResponse(stream, model: model, settlement: settlement, pipeline: pipeline, logger: context.logger)
        } catch let error as ServiceError {
            throw error
        }
    }

    /// Relays the stream chunk by chunk and settles from its own end: done, upstream error, or client gone.
    static func streamResponse(_ stream: ChatChunkStream, model: Model, settlement: CallSettlement, pipeline: CallPipeline, logger: Logger) -> Response {
        let responseBody = ResponseBody { writer in
            var first = true
            do {
                for try await received in stream {
                    if first {
                        pipeline.firstChunk(of: settlement.call, model: model)
                        first = false
                    }
                    var chunk = received
                    let frame: ByteBuffer
                    if let relayed = chunk.upstreamJSON {
                        frame = SSEWriter.frame(ModelNamePatch.apply(relayed, model: model.name).readableBytesView)
                    } else {
                        chunk.model = model.name
                        frame = try SSEWriter.sseFrame(for: chunk)
                    }
                    settlement.received(bytes: frame.readableBytes)
                    try await writer.write(frame)
                }
                try await writer.write(SSEWriter.doneBuffer)
                settlement.settle(.success(stream.usage))
            } catch let error as ProviderError {
                // Mid-stream upstream failure: the status is already 200, so say it in the stream.
                let failure = ServiceError(error, model: model, key: nil)
                settlement.settle(.failed(failure))
                try? await writer.write(SSEWriter.frame(WireError.json(failure, shape: .openAI).readableBytesView))
                try? await writer.write(SSEWriter.doneBuffer)
            } catch {
                // The client went away (or the task was cancelled): leaving the loop cancels the upstream request.
                settlement.settle(.clientGone(stream.usage))
                logger.debug("stream ended early", metadata: ["error.type": "\(type(of: error))"])
            }
            try await writer.finish(nil)
        }
        return Response.eventStream(answeredBy: model, body: responseBody)
    }
}

extension HTTPField.Name {
    /// Names the user a service or admin token calls for.
    static let xUserId = Self("X-User-Id")!
    /// The client's own timeout in seconds, as the official OpenAI and Anthropic SDKs send it.
    static let xStainlessTimeout = Self("X-Stainless-Timeout")!
    /// Names the registry model that answered (a fallback may have).
    static let xModelServiceModel = Self("X-Model-Service-Model")!
}
