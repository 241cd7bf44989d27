import Foundation

/// The one request path of an LLM call: resolve the model (memory), pick the key (memory +
/// decrypt), translate and send through the provider's adapter, record usage (batched).
public struct ChatGateway: Sendable {
    let registry: ModelRegistry
    let keys: KeyResolver
    let endpoints: UpstreamEndpoints
    let upstream: UpstreamClient
    let usage: UsageRecorder
    let traffic: TrafficControl

    public init(
        registry: ModelRegistry, keys: KeyResolver, endpoints: UpstreamEndpoints, upstream: UpstreamClient, usage: UsageRecorder,
        traffic: TrafficControl = TrafficControl()
    ) {
        self.traffic = traffic
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
        let started: ContinuousClock.Instant
    }

    /// Resolves model, user and key, and applies the model's defaults. Throws ``APIError``s.
    public func prepare(_ request: ChatCompletionRequest, principal: Principal, namedUser: String?) throws -> Call {
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
        let baseURL = endpoints.baseURL(for: model)
        let key: ResolvedKey
        do {
            key = try keys.resolve(userId: userId, provider: model.provider, model: model, baseURL: baseURL)
        } catch {
            throw GatewayError.noKey(error)
        }
        var upstreamRequest = request
        if upstreamRequest.temperature == nil { upstreamRequest.temperature = model.defaultTemperature }
        if upstreamRequest.effectiveMaxTokens == nil { upstreamRequest.maxTokens = Self.defaultMaxTokens(for: model) }
        let target = UpstreamTarget(
            provider: model.provider,
            upstreamModel: model.modelId,
            baseURL: baseURL,
            apiKey: key.secret,
            settings: model.providerSettings
        )
        return Call(model: model, request: upstreamRequest, target: target, key: key, userId: userId, tokenId: principal.tokenId, started: started)
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
        do {
            let response = try await adapter.complete(call.request, target: call.target, client: upstream)
            record(call, status: 200, usage: response.usage, streamed: false)
            return response
        } catch let error as ProviderError {
            record(call, status: error.httpStatus, usage: nil, streamed: false, errorCode: GatewayError.from(error).code)
            throw GatewayError.from(error)
        }
    }

    /// Opens a stream; an error before the first chunk is thrown here (a proper status), later ones
    /// come from the iterator. The caller calls ``finishStream(_:usage:error:)`` when it ends.
    public func stream(_ call: Call) async throws -> ChatChunkStream {
        let adapter = ProviderAdapters.adapter(for: call.model.provider)
        do {
            return try await adapter.stream(call.request, target: call.target, client: upstream)
        } catch let error as ProviderError {
            record(call, status: error.httpStatus, usage: nil, streamed: true, errorCode: GatewayError.from(error).code)
            throw GatewayError.from(error)
        }
    }

    public func finishStream(_ call: Call, usage: Usage?, error: (any Error)?) {
        if let error {
            let status = (error as? ProviderError)?.httpStatus ?? 499
            let code = (error as? ProviderError).map { GatewayError.from($0).code } ?? "client_disconnected"
            record(call, status: status, usage: usage, streamed: true, errorCode: code)
        } else {
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
    }
}
