import Foundation
import NIOCore

/// The one path every LLM call takes, whatever door it came in by: admit → route → attempt →
/// (the door relays) → settle. See DESIGN.md, "One call, end to end".
///
/// Each step is one function so traffic control (budgets, retries, fallbacks, breakers) replaces a
/// step's body without reshaping the rest. Nothing here throws an HTTP type: failures are ``ServiceError``s.
public struct CallPipeline: Sendable {
    package let registry: ModelRegistry
    package let keys: KeyResolver
    package let endpoints: UpstreamEndpoints
    public let upstream: UpstreamClient
    package let usage: UsageRecorder
    package let traffic: TrafficControl
    /// Budgets, metrics and breakers settle here (see ``SettlementHook``).
    package let hooks: [any SettlementHook]
    /// Gateway metrics (also a settlement hook); time to first token is recorded by the stream doors.
    package let metrics: GatewayMetrics
    /// Attempt and key-resolution spans; no-ops unless tracing is on.
    package let tracing: GatewayTracing

    public init(
        registry: ModelRegistry, keys: KeyResolver, endpoints: UpstreamEndpoints, upstream: UpstreamClient, usage: UsageRecorder,
        traffic: TrafficControl, hooks: [any SettlementHook] = [], metrics: GatewayMetrics = GatewayMetrics(),
        tracing: GatewayTracing = .disabled
    ) {
        self.metrics = metrics
        self.tracing = tracing
        self.registry = registry
        self.keys = keys
        self.endpoints = endpoints
        self.upstream = upstream
        self.usage = usage
        self.traffic = traffic
        self.hooks = hooks + [metrics]
    }

    /// The first chunk of a streamed answer is on its way to the client.
    public func firstChunk(of call: Call, model: Model) {
        metrics.recordTimeToFirstToken(model: model.name, provider: model.provider, door: call.door.metricsLabel, duration: .now - call.started)
    }

    // MARK: admit

    /// Who calls, for which user, which model, and whether it may be called now: budgets reserve
    /// the call's estimate and rate and token limits count it (traffic control).
    ///
    /// `namedUser` is `X-User-Id`, `bodyUser` the body's `user`: a service or admin token names the user it
    /// calls for; a user token calls only for its own. `maxOutputTokens` is the client's output limit
    /// (nil: the model's default) in the request field `outputField`, part of the estimate a budget reserves. `billed: false` (Anthropic's free
    /// `count_tokens`) skips traffic control: nothing is reserved that a settlement would have to release.
    public func admit(
        door: Call.Door, modelName: String, body: ByteBuffer, streaming: Bool, principal: Principal, namedUser: String?, bodyUser: String?,
        requestId: String, maxOutputTokens: Int? = nil, outputField: String = "max_tokens", timeout: Duration? = nil, billed: Bool = true
    ) async throws(ServiceError) -> Call {
        guard let model = registry.model(named: modelName), model.isActive else {
            throw ServiceError(.unknownModel, "The model '\(modelName)' does not exist or is not active.")
        }
        if model.mode != door.mode {
            throw ServiceError(
                .wrongEndpoint, "The model '\(model.name)' is a \(model.mode.rawValue) model: call it with \(model.mode.endpoint).", field: "model")
        }
        let userId = try Self.user(principal: principal, namedUser: namedUser, bodyUser: bodyUser)
        if streaming, !model.supportsStreaming {
            throw ServiceError.invalidRequest("stream", "the model '\(model.name)' does not support streaming")
        }
        let started = ContinuousClock.now
        let serviceTimeout = Duration.nanoseconds(upstream.requestTimeout.nanoseconds)
        var call = Call(
            door: door, principal: principal, userId: userId, model: model, body: body, streaming: streaming, requestId: requestId,
            started: started, deadline: started + min(serviceTimeout, timeout ?? serviceTimeout))
        let output = door == .embeddings ? 0 : try Self.outputLimit(requested: maxOutputTokens, field: outputField, model: model, door: door)
        guard billed else { return call }
        call.admission = try await traffic.admit(
            model: model, candidates: route(call), userId: userId, tokenId: principal.tokenId, promptBytes: body.readableBytes,
            maxOutputTokens: output)
        return call
    }

    /// The most output tokens the call may produce, for the budget's estimate. The client's limit is
    /// bounded at the door: below 1 or past ``TokenCount/max`` is a 400 naming the field, and so is a
    /// limit past the model's own when the client's bytes go to the provider as sent (it would refuse
    /// them too); a translated call's limit is lowered to the model's (``ChatDefaults``).
    package static func outputLimit(requested: Int?, field: String, model: Model, door: Call.Door) throws(ServiceError) -> Int {
        let modelLimit = ChatDefaults.defaultMaxTokens(for: model)
        guard let requested else { return modelLimit ?? 4_096 }
        if requested < 1 { throw .invalidRequest(field, "must be at least 1") }
        if requested > TokenCount.max { throw .invalidRequest(field, "must be at most \(TokenCount.max)") }
        guard let modelLimit, requested > modelLimit else { return requested }
        if door.relaysAsSent(to: model.provider) {
            throw .invalidRequest(field, "must be at most \(modelLimit), the output limit of the model '\(model.name)'")
        }
        return modelLimit
    }

    package static func user(principal: Principal, namedUser: String?, bodyUser: String?) throws(ServiceError) -> String? {
        if let namedUser, let problem = UserId.problem(with: namedUser) { throw .invalidRequest("X-User-Id", problem) }
        if let bodyUser, let problem = UserId.problem(with: bodyUser), principal.actsForAnyUser, namedUser == nil {
            throw .invalidRequest("user", problem)
        }
        if let bodyUser, bodyUser.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidRequest("user", "must not contain control characters")
        }
        guard principal.actsForAnyUser else {
            if let namedUser, namedUser != principal.userId { throw ServiceError(.forbidden, "A user token calls only for its own user.") }
            return principal.userId
        }
        return (namedUser ?? bodyUser).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    // MARK: route

    /// True when a chat call of `modelName` is relayed as the client sent it, whichever candidate
    /// answers (the model and its fallbacks all speak OpenAI's chat format), so the door need not
    /// decode it in full. An unknown model counts as relayed: admission refuses it anyway.
    public func relaysOpenAIChat(modelName: String) -> Bool {
        guard let model = registry.model(named: modelName) else { return true }
        return traffic.candidates(for: model).allSatisfy { ProviderAdapters.speaksOpenAIChat($0.provider) }
    }

    /// The models to try, in order: the one asked for, then its active `fallbacks`.
    public func route(_ call: Call) -> [Model] {
        traffic.candidates(for: call.model)
    }

    /// The settlement of a call; create it right before ``run(_:settlement:_:)``.
    public func settlement(for call: Call) -> CallSettlement {
        CallSettlement(call: call, usage: usage, hooks: hooks, tracing: tracing)
    }

    // MARK: attempt

    /// Tries the route's candidates in order (``AttemptLoop``: circuit breakers, retries with
    /// backoff, then the next candidate) until one answers, within the call's deadline. That happens
    /// only before the answer starts, as `operation` returns once the upstream accepted (a stream's
    /// body is read later, never retried). A failure that ends the call is settled here.
    public func run<T: Sendable>(
        _ call: Call, settlement: CallSettlement, _ operation: @Sendable (Model, UpstreamTarget) async throws -> T
    ) async throws -> T {
        let endpoints = self.endpoints
        do {
            let outcome = try await UpstreamClient.$callDeadline.withValue(call.deadline) {
                try await traffic.attempts.run(
                    candidates: route(call), deadline: call.deadline, circuit: { TrafficControl.circuit(for: $0, endpoints: endpoints) }
                ) { candidate in
                    try await attempt(call, candidate: candidate, settlement: settlement, operation)
                }
            }
            return outcome.value
        } catch let error as ServiceError {
            settlement.settle(.failed(error))
            throw error
        } catch {
            settlement.settle(.clientGone(nil))
            throw error
        }
    }

    /// One upstream call: key (user → shared → env), target, adapter operation. A provider's 401/403
    /// on a stored key marks the key invalid (``KeyHealth``) and the same call tries the next key source.
    public func attempt<T: Sendable>(
        _ call: Call, candidate: Model, settlement: CallSettlement, _ operation: @Sendable (Model, UpstreamTarget) async throws -> T
    ) async throws -> T {
        let baseURL = endpoints.baseURL(for: candidate)
        var rejected: Set<String> = []
        while true {
            let key: ResolvedKey
            do {
                key = try tracing.keyResolution(provider: candidate.provider, requestId: call.requestId) {
                    try keys.resolve(userId: call.userId, provider: candidate.provider, model: candidate, baseURL: baseURL)
                } source: { $0.source }
            } catch let error as KeyResolutionError {
                let kind: ServiceError.Kind =
                    error.unboundEndpoint != nil ? .keyNotForEndpoint
                    : error.refusedVariable != nil ? .refusedKeyVariable
                    : error.undecryptable ? .keyUndecryptable : .noKey
                throw ServiceError(kind, error.description)
            }
            if let previous = settlement.attempting(candidate, key: key) {
                if previous.id == candidate.id {
                    metrics.recordRetry(model: candidate.name, provider: candidate.provider)
                } else {
                    metrics.recordFallback(from: previous.name, to: candidate.name)
                }
            }
            let target = UpstreamTarget(
                provider: candidate.provider, upstreamModel: candidate.modelId, baseURL: baseURL, apiKey: key.secret,
                settings: candidate.providerSettings)
            let span = tracing.startAttempt(model: candidate, operation: call.door.operationName, streamed: call.streaming, requestId: call.requestId)
            do {
                let answer = try await operation(candidate, target)
                settlement.answered(by: span)
                return answer
            } catch let error as ProviderError {
                let failure = ServiceError(error, model: candidate, key: key)
                tracing.endAttempt(span, usage: nil, responseModel: nil, status: failure.status, errorKind: failure.code)
                // Stored keys only (an environment key has no id to mark), each at most once per call.
                if failure.kind == .providerKeyRejected, let keyId = key.keyId, rejected.insert(keyId).inserted, rejected.count < 4,
                    settlement.attempts < traffic.attempts.policy.maxAttempts
                {
                    traffic.keyRejected(keyId: keyId, status: failure.upstreamStatus ?? 401)
                    continue
                }
                throw failure
            } catch {
                tracing.endAttempt(span, usage: nil, responseModel: nil, status: 499, errorKind: "cancelled")
                throw error
            }
        }
    }
}
