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
        traffic: TrafficControl
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
        if request.isStreaming, !model.supportsStreaming {
            throw APIError.invalidField("stream", "the model '\(model.name)' does not support streaming")
        }
        let key: ResolvedKey
        do {
            key = try keys.resolve(userId: userId, provider: model.provider, model: model)
        } catch {
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

    /// A call that went through traffic control: the answer, the candidate model that gave it, the
    /// key used, how many upstream attempts it took, and the admission to settle.
    public struct Attempted<Value: Sendable>: Sendable {
        public var value: Value
        public var model: Model
        public var key: ResolvedKey
        public var attempts: Int
        public let call: Call
        let admission: TrafficControl.Admission
    }

    /// A non-streamed call; usage is recorded and the admission settled whatever the outcome.
    public func complete(_ call: Call) async throws -> Attempted<ChatCompletionResponse> {
        let admission = try await admit(call)
        var attempts = 0
        do {
            let result = try await attempt(call, admission: admission, attempts: &attempts) { adapter, request, target in
                try await adapter.complete(request, target: target, client: upstream)
            }
            await settle(result, status: 200, usage: result.value.usage, streamed: false)
            return result
        } catch {
            let mapped = Self.apiError(error)
            await settleFailure(call, admission: admission, attempts: attempts, status: mapped.status.code, code: mapped.code, streamed: false)
            throw mapped
        }
    }

    /// Opens a stream (retrying and falling over until the upstream accepts it); an error before
    /// the first chunk is thrown here, later ones come from the iterator and are never retried.
    /// The caller calls ``finishStream(_:usage:error:)`` when it ends.
    public func stream(_ call: Call) async throws -> Attempted<ChatChunkStream> {
        let admission = try await admit(call)
        var attempts = 0
        do {
            return try await attempt(call, admission: admission, attempts: &attempts) { adapter, request, target in
                try await adapter.stream(request, target: target, client: upstream)
            }
        } catch {
            let mapped = Self.apiError(error)
            await settleFailure(call, admission: admission, attempts: attempts, status: mapped.status.code, code: mapped.code, streamed: true)
            throw mapped
        }
    }

    public func finishStream(_ attempted: Attempted<ChatChunkStream>, usage: Usage?, error: (any Error)?) async {
        if let error {
            let status = (error as? ProviderError)?.httpStatus ?? 499
            let code = (error as? ProviderError).map { GatewayError.from($0).code } ?? "client_disconnected"
            await settle(attempted, status: status, usage: usage, streamed: true, errorCode: code)
        } else {
            await settle(attempted, status: 200, usage: usage, streamed: true)
        }
    }

    // MARK: Traffic control (thin calls into Traffic/)

    private func admit(_ call: Call) async throws -> TrafficControl.Admission {
        do {
            return try await traffic.admit(
                model: call.model, candidates: traffic.candidates(for: call.model), userId: call.userId, tokenId: call.tokenId, request: call.request)
        } catch let error as TrafficError {
            throw error.apiError
        }
    }

    /// Runs the attempt loop over the model and its fallbacks; per attempt the key is resolved again,
    /// so a stored key the provider rejects (401/403) is reported and the next source is tried.
    private func attempt<Value: Sendable>(
        _ call: Call, admission: TrafficControl.Admission, attempts: inout Int,
        _ send: @Sendable (any ProviderAdapter, ChatCompletionRequest, UpstreamTarget) async throws -> Value
    ) async throws -> Attempted<Value> {
        let deadline = call.started + .nanoseconds(upstream.requestTimeout.nanoseconds)
        let endpoints = self.endpoints
        let outcome = try await traffic.attempts.run(
            candidates: traffic.candidates(for: call.model), deadline: deadline,
            circuit: { TrafficControl.circuit(for: $0, endpoints: endpoints) }, attempts: &attempts
        ) { (model: Model) async throws -> (Value, ResolvedKey) in
            var tried: Set<String> = []
            while true {
                let key = try keys.resolve(userId: call.userId, provider: model.provider, model: model)
                let target = UpstreamTarget(
                    provider: model.provider, upstreamModel: model.modelId, baseURL: endpoints.baseURL(for: model), apiKey: key.secret,
                    settings: model.providerSettings)
                do {
                    return (try await send(ProviderAdapters.adapter(for: model.provider), call.request, target), key)
                } catch ProviderError.upstreamRejected(let status, let message, let type, let code, let retryAfter) where status == 401 || status == 403 {
                    guard let keyId = key.keyId, tried.insert(keyId).inserted, tried.count < 4 else {
                        throw ProviderError.upstreamRejected(status: status, message: message, type: type, code: code, retryAfter: retryAfter)
                    }
                    traffic.keyRejected(keyId: keyId, status: status)
                }
            }
        }
        return Attempted(value: outcome.value.0, model: outcome.model, key: outcome.value.1, attempts: outcome.attempts, call: call, admission: admission)
    }

    /// The one place errors of an attempted call become answers.
    static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as ProviderError: GatewayError.from(error)
        case let error as TrafficError: error.apiError
        case let error as KeyResolutionError: GatewayError.noKey(error)
        case is CancellationError: APIError(.init(code: 499), code: "client_disconnected", message: "The client went away.")
        default: APIError(.badGateway, code: "upstream_error", message: "The upstream call failed.", type: "upstream_error")
        }
    }

    private func settle<Value>(_ attempted: Attempted<Value>, status: Int, usage: Usage?, streamed: Bool, errorCode: String? = nil) async {
        var record = UsageRecord(
            userId: attempted.call.userId, tokenId: attempted.call.tokenId, model: attempted.model.name, provider: attempted.model.provider, status: status)
        record.keyId = attempted.key.keyId
        record.keySource = attempted.key.source == .none ? nil : attempted.key.source.rawValue
        record.promptTokens = usage?.promptTokens ?? 0
        record.completionTokens = usage?.completionTokens ?? 0
        record.cost = attempted.model.cost(promptTokens: record.promptTokens, completionTokens: record.completionTokens)
        record.attempts = attempted.attempts
        await finish(record, call: attempted.call, streamed: streamed, errorCode: errorCode, admission: attempted.admission)
    }

    private func settleFailure(_ call: Call, admission: TrafficControl.Admission, attempts: Int, status: Int, code: String, streamed: Bool) async {
        var record = UsageRecord(userId: call.userId, tokenId: call.tokenId, model: call.model.name, provider: call.model.provider, status: status)
        record.keyId = call.key.keyId
        record.keySource = call.key.source == .none ? nil : call.key.source.rawValue
        record.attempts = max(1, attempts)
        await finish(record, call: call, streamed: streamed, errorCode: code, admission: admission)
    }

    /// Records usage (batched) and settles the admission: once per call, whatever the outcome.
    private func finish(_ partial: UsageRecord, call: Call, streamed: Bool, errorCode: String?, admission: TrafficControl.Admission) async {
        var record = partial
        record.requestedModel = call.model.name
        let elapsed = ContinuousClock.now - call.started
        record.latencyMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        record.streamed = streamed
        record.errorCode = errorCode
        usage.record(record)
        await traffic.settle(admission, cost: record.cost, tokens: record.totalTokens)
    }
}
