import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Anthropic's front door: `POST /v1/messages` (JSON or SSE) and `POST /v1/messages/count_tokens`,
/// for every registry model. Anthropic models are relayed byte for byte; the others are translated
/// to the canonical chat request and back. Errors come in Anthropic's shape (``AnthropicErrorMiddleware``).
struct AnthropicMessagesController {
    let gateway: ChatGateway
    let registry: ModelRegistry

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: messages)
        group.post("count_tokens", use: countTokens)
    }

    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await Self.body(request, context: context)
        let fields = try JSONBody.decode(ChatGateway.MessagesFields.self, from: Data(bytes))
        let namedUser = request.headers[.xUserId]
        if registry.model(named: fields.model)?.provider == .anthropic {
            guard let object = JSONObjectBytes(bytes) else {
                throw APIError.badRequest("The request body must be a JSON object.", code: "invalid_json")
            }
            let (call, upstreamBody) = try gateway.prepareMessagesRelay(object, fields: fields, principal: principal, namedUser: namedUser)
            let headers = Self.anthropicHeaders(request)
            guard fields.stream == true else {
                let answer = try await gateway.relayMessages(call, body: upstreamBody, headers: headers)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
            }
            let upstream = try await gateway.openMessagesStream(call, body: upstreamBody, headers: headers)
            return Self.eventStream(relaying: upstream, call: call, gateway: gateway)
        }
        let canonical = try AnthropicRequestTranslator.request(from: try JSONBody.decode(JSONValue.self, from: Data(bytes)))
        let call = try gateway.prepare(canonical, principal: principal, namedUser: namedUser)
        guard canonical.isStreaming else {
            let response = try await gateway.complete(call)
            let message = AnthropicResponseTranslator.message(from: response, model: call.model.name)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: try ProviderJSON.encodeBuffer(message)))
        }
        let stream = try await gateway.stream(call)
        return Self.eventStream(translating: stream, call: call, gateway: gateway)
    }

    @Sendable func countTokens(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let bytes = try await Self.body(request, context: context)
        let fields = try JSONBody.decode(ChatGateway.MessagesFields.self, from: Data(bytes))
        guard let model = registry.model(named: fields.model), model.isActive else { throw GatewayError.modelNotFound(fields.model) }
        guard model.provider == .anthropic else {
            let body = try JSONBody.decode(JSONValue.self, from: Data(bytes))
            guard body["messages"]?.arrayValue != nil else { throw APIError.invalidField("messages", "is required") }
            let count: JSONValue = .object(["input_tokens": .number(Double(AnthropicTokenEstimate.inputTokens(body)))])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: try ProviderJSON.encodeBuffer(count)))
        }
        guard var object = JSONObjectBytes(bytes) else { throw APIError.badRequest("The request body must be a JSON object.", code: "invalid_json") }
        var probe = ChatCompletionRequest(model: fields.model, messages: [])
        probe.user = fields.metadata?.userId
        let call = try gateway.prepare(probe, principal: principal, namedUser: request.headers[.xUserId])
        object.replaceValue(at: ["model"], with: JSONObjectBytes.encodeString(call.target.upstreamModel))
        let answer = try await gateway.relayCountTokens(call, body: ByteBuffer(bytes: object.bytes), headers: Self.anthropicHeaders(request))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
    }

    private static func body(_ request: Request, context: AppRequestContext) async throws -> [UInt8] {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("The request body must be a JSON object.", code: "invalid_json") }
        return Array(buffer.readableBytesView)
    }

    private static func anthropicHeaders(_ request: Request) -> ChatGateway.AnthropicHeaders {
        ChatGateway.AnthropicHeaders(version: request.headers[.anthropicVersion], beta: request.headers[.anthropicBeta])
    }

    private static let streamHeaders: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"]

    /// The upstream's events as they come; a transport failure after the head becomes `event: error`.
    private static func eventStream(relaying upstream: HTTPClientResponse.Body, call: ChatGateway.Call, gateway: ChatGateway) -> Response {
        let body = ResponseBody { writer in
            var relay = AnthropicRelayEvents(model: call.model.name)
            var failure: (any Error)?
            var iterator = upstream.makeAsyncIterator()
            do {
                while true {
                    let buffer: ByteBuffer?
                    do {
                        buffer = try await iterator.next()
                    } catch {
                        throw UpstreamClient.providerError(for: error, apiKey: call.target.apiKey)
                    }
                    guard let buffer else { break }
                    for frame in relay.push(buffer) { try await writer.write(frame) }
                }
                for frame in relay.finish() { try await writer.write(frame) }
                if let error = relay.upstreamError {
                    failure = error  // Already relayed as the upstream's own `error` event.
                } else if !relay.stopped {
                    throw ProviderError.invalidResponse("the stream ended before message_stop")
                }
            } catch let error as ProviderError {
                failure = error
                try? await writer.write(AnthropicErrorShape.streamEvent(for: GatewayError.from(error)))
            } catch {
                failure = error  // The client went away; leaving the loop cancels the upstream request.
            }
            gateway.finishStream(call, usage: relay.recordedUsage, error: failure)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: streamHeaders, body: body)
    }

    /// Canonical chunks as Anthropic events; a mid-stream upstream failure becomes `event: error`.
    private static func eventStream(translating stream: ChatChunkStream, call: ChatGateway.Call, gateway: ChatGateway) -> Response {
        let body = ResponseBody { writer in
            var translator = AnthropicStreamTranslator(model: call.model.name)
            var failure: (any Error)?
            do {
                for frame in translator.start() { try await writer.write(frame) }
                for try await chunk in stream {
                    for frame in translator.translate(chunk) { try await writer.write(frame) }
                }
                for frame in translator.finish(usage: stream.usage) { try await writer.write(frame) }
            } catch let error as ProviderError {
                failure = error
                try? await writer.write(AnthropicErrorShape.streamEvent(for: GatewayError.from(error)))
            } catch {
                failure = error
            }
            gateway.finishStream(call, usage: stream.usage, error: failure)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: streamHeaders, body: body)
    }
}

extension HTTPField.Name {
    static let anthropicVersion = Self("anthropic-version")!
    static let anthropicBeta = Self("anthropic-beta")!
}
