import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ModelServiceCore

/// Anthropic's front door: `POST /v1/messages` (JSON or SSE) and `POST /v1/messages/count_tokens`,
/// for every registry model, through the call pipeline. Anthropic models are relayed as the client's
/// bytes; the others are translated to the canonical chat request and back. Errors come in
/// Anthropic's shape (``AnthropicErrorRenderer``, ``AnthropicErrorMiddleware``).
struct AnthropicMessagesController {
    let pipeline: CallPipeline
    let registry: ModelRegistry

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: messages)
        group.post("count_tokens", use: countTokens)
    }

    /// What one attempt answered: the upstream's event stream (relay) or canonical chunks (translated).
    enum Events: Sendable {
        case relayed(HTTPClientResponse.Body, apiKey: Secret?)
        case translated(ChatChunkStream)
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let fields = try JSONBody.decode(AnthropicMessagesFields.self, from: Data(bytes.readableBytesView))
        // Translated only for a provider that does not speak Anthropic's format, so a relay never refuses a block it does not know.
        let asked = registry.model(named: fields.model)
        let translated = asked.map { $0.provider == .anthropic } == false ? try Self.canonical(bytes) : nil
        let headers = AnthropicMessagesUpstream.ClientHeaders(version: request.headers[.anthropicVersion], beta: request.headers[.anthropicBeta])
        do {
            try fields.validate()
            let call = try await pipeline.admit(
                door: .messages, modelName: fields.model, body: bytes, streaming: fields.stream == true, principal: principal,
                namedUser: request.headers[.xUserId], bodyUser: fields.metadata?.userId, requestId: context.requestId,
                maxOutputTokens: fields.maxTokens, timeout: Call.clientTimeout(request.headers[.xStainlessTimeout]))
            let settlement = pipeline.settlement(for: call)
            let upstream = pipeline.upstream
            if !call.streaming {
                let (model, out, usage) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                    if candidate.provider == .anthropic {
                        let body = try AnthropicMessagesUpstream.body(clientJSON: bytes, target: target, model: candidate)
                        let answer = try await AnthropicMessagesUpstream.send(
                            path: "/v1/messages", body: body, headers: headers, target: target, client: upstream)
                        let (out, usage) = try AnthropicMessagesUpstream.patchAnswer(answer, model: candidate.name)
                        return (candidate, out, usage)
                    }
                    let canonical = try translated ?? Self.canonicalForCall(bytes)
                    let adapter = ProviderAdapters.adapter(for: candidate.provider)
                    let response = try await adapter.complete(ChatDefaults.apply(to: canonical, model: candidate), target: target, client: upstream)
                    let message = AnthropicResponseTranslator.message(from: response, model: candidate.name)
                    return (candidate, try ProviderJSON.encodeBuffer(message), response.usage)
                }
                settlement.received(bytes: out.readableBytes)
                settlement.settle(.success(usage))
                return Response(
                    status: .ok, headers: [.contentType: "application/json", .xModelServiceModel: model.name], body: .init(byteBuffer: out))
            }
            let (model, events) = try await pipeline.run(call, settlement: settlement) { candidate, target -> (Model, Events) in
                if candidate.provider == .anthropic {
                    let body = try AnthropicMessagesUpstream.body(clientJSON: bytes, target: target, model: candidate)
                    let response = try await AnthropicMessagesUpstream.open(body: body, headers: headers, target: target, client: upstream)
                    return (candidate, .relayed(response.body, apiKey: target.apiKey))
                }
                let canonical = try translated ?? Self.canonicalForCall(bytes)
                let adapter = ProviderAdapters.adapter(for: candidate.provider)
                return (
                    candidate,
                    .translated(try await adapter.stream(ChatDefaults.apply(to: canonical, model: candidate), target: target, client: upstream))
                )
            }
            return AnthropicEventStream.response(events, model: model, pipeline: pipeline, settlement: settlement, logger: context.logger)
        } catch let error as ServiceError {
            throw error
        }
    }

    @Sendable func countTokens(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await request.collectJSONBody(context: context)
        let fields = try JSONBody.decode(AnthropicMessagesFields.self, from: Data(bytes.readableBytesView))
        do {
            let call = try await pipeline.admit(
                door: .messages, modelName: fields.model, body: bytes, streaming: false, principal: principal,
                namedUser: request.headers[.xUserId], bodyUser: fields.metadata?.userId, requestId: context.requestId, billed: false)
            guard call.model.provider == .anthropic else {
                let body = try JSONBody.decode(JSONValue.self, from: Data(bytes.readableBytesView))
                guard body["messages"]?.arrayValue != nil else { throw ServiceError.invalidRequest("messages", "is required") }
                let count: JSONValue = .object(["input_tokens": .number(Double(AnthropicTokenEstimate.inputTokens(body)))])
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: try ProviderJSON.encodeBuffer(count)))
            }
            // Free at Anthropic, so no usage record: the key is resolved as for a call, nothing is settled.
            let target = try pipeline.unbilledTarget(for: call)
            let headers = AnthropicMessagesUpstream.ClientHeaders(version: request.headers[.anthropicVersion], beta: request.headers[.anthropicBeta])
            do {
                guard var editor = JSONObjectEditor(bytes) else { throw ServiceError(.invalidRequest, "The request body must be a JSON object.") }
                editor.set("model", target.upstreamModel)
                let answer = try await AnthropicMessagesUpstream.send(
                    path: "/v1/messages/count_tokens", body: editor.result(), headers: headers, target: target, client: pipeline.upstream)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
            } catch let error as ProviderError {
                throw ServiceError(error, model: call.model, key: nil)
            }
        } catch let error as ServiceError {
            throw error
        }
    }

    /// The canonical request for a translated call; a body error is a 400 naming the field.
    private static func canonical(_ bytes: ByteBuffer) throws -> ChatCompletionRequest {
        try AnthropicRequestTranslator.request(from: try JSONBody.decode(JSONValue.self, from: Data(bytes.readableBytesView)))
    }

    /// The same inside an attempt (a fallback of another provider), where failures are ``ServiceError``s.
    private static func canonicalForCall(_ bytes: ByteBuffer) throws(ServiceError) -> ChatCompletionRequest {
        do {
            return try canonical(bytes)
        } catch let error as ServiceError {
            throw ServiceError(.invalidRequest, error.message)
        } catch {
            throw ServiceError(.invalidRequest, "The request body is not a valid Anthropic Messages request.")
        }
    }
}

extension HTTPField.Name {
    static let anthropicVersion = Self("anthropic-version")!
    static let anthropicBeta = Self("anthropic-beta")!
}
