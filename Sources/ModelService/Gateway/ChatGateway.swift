import Foundation
import Tracing

/// The one request path of an LLM call: resolve the model (memory), pick the key (memory +
/// decrypt), translate and send through the provider's adapter, record usage (batched).
public struct ChatGateway: Sendable {
    let registry: ModelRegistry
    let keys: KeyResolver
    let endpoints: UpstreamEndpoints
    let upstream: UpstreamClient
    let usage: UsageRecorder
    let traffic: TrafficControl
    let metrics: GatewayMetrics
    let tracing: GatewayTracing

    public init(
        registry: ModelRegistry, keys: KeyResolver, endpoints: UpstreamEndpoints, upstream: UpstreamClient, usage: UsageRecorder,
        traffic: TrafficControl = TrafficControl(), metrics: GatewayMetrics = GatewayMetrics(), tracing: GatewayTracing = .disabled
    ) {
        self.traffic = traffic
        self.metrics = metrics
        self.tracing = tracing
        self.registry = registry
        self.keys = keys
        self.endpoints = endpoints
        self.upstream = upstream
        self.usage = usage
    }

    /// Everything decided before the upstream is called.
    public struct Call: Sendable {
        public var model: Model
        public var request: ChatCompletionRequest
        public var target: UpstreamTarget
        public var key: ResolvedKey
        public var userId: String?
        public var tokenId: String
        /// The front door, a metrics label: `chat.completions` today.
        public var door: String
        public var requestId: String?
        let started: ContinuousClock.Instant
        /// The upstream attempt's span while a stream is open (tracing on only).
        var attemptSpan: (any Span)?
    }

    /// Resolves model, user and key, and applies the model's defaults. Throws ``APIError``s.
    public func prepare(
        _ request: ChatCompletionRequest, principal: Principal, namedUser: String?, requestId: String? = nil, door: String = "chat.completions"
    ) throws -> Call {
        let started = ContinuousClock.now
        guard let model = registry.model(named: request.model), model.isActive else {
            throw GatewayError.modelNotFound(request.model)
        }
        let userId: String?
        if principal.actsForAnyUser {
            userId = namedUser ?? request.user
            if let userId, userId.hasPrefix("@") || userId.count > 200 {
                throw APIError.invalidField(namedUser != nil ? "X-User-Id" : "user", "must be 1 to 200 characters and not start with @ (reserved)")
            }
        } else {
            if let namedUser, namedUser != principal.userId { throw APIError.forbidden("A user token calls only for its own user.") }
            userId = principal.userId
        }
        try traffic.admit(model: model, caller: userId.map { "user:\($0)" } ?? "token:\(principal.tokenId)")
        if request.isStreaming, !model.supportsStreaming {
            throw APIError.invalidField("stream", "the model '\(model.name)' does not support streaming")
        }
        let key: ResolvedKey
        do {
            key = try tracing.keyResolution(provider: model.provider, requestId: requestId) {
                try keys.resolve(userId: userId, provider: model.provider, model: model)
            } source: { $0.source }
        } catch let error as KeyResolutionError {
            throw GatewayError.noKey(error)
        }
        var upstreamRequest = request
        if upstreamRequest.temperature == nil { upstreamRequest.temperature = model.defaultTemperature }
        if upstreamRequest.effectiveMaxTokens == nil { upstreamRequest.maxTokens = Self.defaultMaxTokens(for: model) }
        let target = UpstreamTarget(
            provider: model.provider,
            upstreamModel: model.modelId,
            baseURL: endpoints.baseURL(for: model),
            apiKey: key.secret,
            settings: model.providerSettings
        )
        return Call(
            model: model, request: upstreamRequest, target: target, key: key, userId: userId, tokenId: principal.tokenId, door: door,
            requestId: requestId, started: started
        )
    }

    /// The model's `maxTokens` when the request leaves max tokens out, or its
    /// `providerSettings.maxOutputTokens` where that is smaller: the catalog's `maxTokens` is the
    /// context window, which providers refuse as an output limit.
    static func defaultMaxTokens(for model: Model) -> Int? {
        let output = model.providerSettings["maxOutputTokens"]?.intValue
        switch (model.maxTokens, output) {
        case (let limit?, let output?): return min(limit, output)
        case (let limit?, nil): return limit
        case (nil, let output): return output
        }
    }

    /// A non-streamed call; usage is recorded whatever the outcome.
    public func complete(_ call: Call) async throws -> ChatCompletionResponse {
        let adapter = ProviderAdapters.adapter(for: call.model.provider)
        let span = tracing.startAttempt(model: call.model, operation: "chat", streamed: false, requestId: call.requestId)
        do {
            let response = try await adapter.complete(call.request, target: call.target, client: upstream)
            tracing.endAttempt(span, usage: response.usage, responseModel: response.model, status: 200, errorKind: nil)
            record(call, status: 200, usage: response.usage, streamed: false)
            return response
        } catch let error as ProviderError {
            let code = GatewayError.from(error).code
            tracing.endAttempt(span, usage: nil, responseModel: nil, status: error.httpStatus, errorKind: code)
            record(call, status: error.httpStatus, usage: nil, streamed: false, errorCode: code)
            throw GatewayError.from(error)
        } catch {
            tracing.endAttempt(span, usage: nil, responseModel: nil, status: 499, errorKind: "cancelled")
            throw error
        }
    }

    /// Opens a stream; an error before the first chunk is thrown here (a proper status), later ones
    /// come from the iterator. The caller calls ``finishStream(_:usage:error:)`` when it ends.
    public func stream(_ call: inout Call) async throws -> ChatChunkStream {
        let adapter = ProviderAdapters.adapter(for: call.model.provider)
        let span = tracing.startAttempt(model: call.model, operation: "chat", streamed: true, requestId: call.requestId)
        do {
            let stream = try await adapter.stream(call.request, target: call.target, client: upstream)
            call.attemptSpan = span
            return stream
        } catch let error as ProviderError {
            let code = GatewayError.from(error).code
            tracing.endAttempt(span, usage: nil, responseModel: nil, status: error.httpStatus, errorKind: code)
            record(call, status: error.httpStatus, usage: nil, streamed: true, errorCode: code)
            throw GatewayError.from(error)
        } catch {
            tracing.endAttempt(span, usage: nil, responseModel: nil, status: 499, errorKind: "cancelled")
            throw error
        }
    }

    /// The first chunk of a stream is on its way to the client.
    public func firstChunk(_ call: Call) {
        metrics.recordTimeToFirstToken(model: call.model.name, provider: call.model.provider, door: call.door, duration: ContinuousClock.now - call.started)
    }

    public func finishStream(_ call: Call, usage: Usage?, error: (any Error)?) {
        if let error {
            let status = (error as? ProviderError)?.httpStatus ?? 499
            let code = (error as? ProviderError).map { GatewayError.from($0).code } ?? "client_disconnected"
            tracing.endAttempt(call.attemptSpan, usage: usage, responseModel: nil, status: status, errorKind: code)
            record(call, status: status, usage: usage, streamed: true, errorCode: code)
        } else {
            tracing.endAttempt(call.attemptSpan, usage: usage, responseModel: nil, status: 200, errorKind: nil)
            record(call, status: 200, usage: usage, streamed: true)
        }
    }

    func record(_ call: Call, status: Int, usage: Usage?, streamed: Bool, errorCode: String? = nil) {
        var record = UsageRecord(userId: call.userId, tokenId: call.tokenId, model: call.model.name, provider: call.model.provider, status: status)
        record.keyId = call.key.keyId
        record.keySource = call.key.source == .none ? nil : call.key.source.rawValue
        record.promptTokens = usage?.promptTokens ?? 0
        record.completionTokens = usage?.completionTokens ?? 0
        record.cost = call.model.cost(promptTokens: record.promptTokens, completionTokens: record.completionTokens)
        let elapsed = ContinuousClock.now - call.started
        record.latencyMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        record.streamed = streamed
        record.errorCode = errorCode
        self.usage.record(record)
        metrics.record(
            settlement: .init(
                model: call.model.name, provider: call.model.provider, door: call.door, status: status, errorKind: errorCode,
                inputTokens: record.promptTokens, outputTokens: record.completionTokens, cost: record.cost, duration: elapsed, streamed: streamed
            ))
    }
}
