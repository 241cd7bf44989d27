import Foundation
import HTTPTypes
import NIOCore

/// The one path every LLM call takes, whatever door it came in by: admit → route → attempt →
/// (the door relays) → settle. See DESIGN.md, "One call, end to end".
///
/// Each step is one function so traffic control (budgets, retries, fallbacks, breakers) replaces a
/// step's body without reshaping the rest. Nothing here throws an HTTP type: failures are ``CallError``s.
public struct CallPipeline: Sendable {
    let registry: ModelRegistry
    let keys: KeyResolver
    let endpoints: UpstreamEndpoints
    public let upstream: UpstreamClient
    let usage: UsageRecorder
    let traffic: TrafficControl
    /// Budgets, metrics and breakers settle here (see ``SettlementHook``).
    let hooks: [any SettlementHook]
    /// Gateway metrics (also a settlement hook); time to first token is recorded by the stream doors.
    let metrics: GatewayMetrics
    /// Attempt and key-resolution spans; no-ops unless tracing is on.
    let tracing: GatewayTracing

    public init(
        registry: ModelRegistry, keys: KeyResolver, endpoints: UpstreamEndpoints, upstream: UpstreamClient, usage: UsageRecorder,
        traffic: TrafficControl = TrafficControl(), hooks: [any SettlementHook] = [], metrics: GatewayMetrics = GatewayMetrics(),
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

    /// Who calls, for which user, which model, and whether it may be called now.
    ///
    /// `namedUser` is `X-User-Id`, `bodyUser` the body's `user`: a service or admin token names the user it
    /// calls for; a user token calls only for its own.
    public func admit(
        door: Call.Door, modelName: String, body: ByteBuffer, streaming: Bool, principal: Principal, namedUser: String?, bodyUser: String?,
        requestId: String
    ) throws(CallError) -> Call {
        guard let model = registry.model(named: modelName), model.isActive else {
            throw CallError(.unknownModel, "The model '\(modelName)' does not exist or is not active.")
        }
        if model.mode != door.mode {
            throw CallError(
                .wrongEndpoint, "The model '\(model.name)' is a \(model.mode.rawValue) model: call it with \(model.mode.endpoint).", field: "model")
        }
        let userId = try Self.user(principal: principal, namedUser: namedUser, bodyUser: bodyUser)
        if streaming, !model.supportsStreaming {
            throw CallError.invalidField("stream", "the model '\(model.name)' does not support streaming")
        }
        let call = Call(
            door: door, principal: principal, userId: userId, model: model, body: body, streaming: streaming, requestId: requestId,
            started: .now)
        do {
            try traffic.admit(model: model, caller: call.caller)
        } catch {
            throw CallError(.rateLimited, error.message, retryAfter: error.headers[.retryAfter])
        }
        return call
    }

    static func user(principal: Principal, namedUser: String?, bodyUser: String?) throws(CallError) -> String? {
        if let namedUser, let problem = UserId.problem(with: namedUser) { throw .invalidField("X-User-Id", problem) }
        if let bodyUser, let problem = UserId.problem(with: bodyUser), principal.actsForAnyUser, namedUser == nil {
            throw .invalidField("user", problem)
        }
        if let bodyUser, bodyUser.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidField("user", "must not contain control characters")
        }
        guard principal.actsForAnyUser else {
            if let namedUser, namedUser != principal.userId { throw CallError(.forbidden, "A user token calls only for its own user.") }
            return principal.userId
        }
        return (namedUser ?? bodyUser).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    // MARK: route

    /// The models to try, in order: the one asked for, then (traffic control) its fallbacks.
    public func route(_ call: Call) -> [Model] {
        [call.model]
    }

    /// The settlement of a call; create it right before ``run(_:settlement:_:)``.
    public func settlement(for call: Call) -> CallSettlement {
        CallSettlement(call: call, usage: usage, hooks: hooks, tracing: tracing)
    }

    // MARK: attempt

    /// Tries the route's candidates in order until one answers. A retryable failure moves to the next
    /// candidate; that happens only before the answer starts, as `operation` returns once the upstream
    /// accepted (a stream's body is read later). A failure that ends the call is settled here.
    public func run<T: Sendable>(
        _ call: Call, settlement: CallSettlement, _ operation: @Sendable (Model, UpstreamTarget) async throws -> T
    ) async throws -> T {
        let candidates = route(call)
        var lastError = CallError(.unknownModel, "No model to call.")
        do {
            for (index, candidate) in candidates.enumerated() {
                do {
                    return try await attempt(call, candidate: candidate, settlement: settlement, operation)
                } catch let error as CallError where error.kind.rule.retryable && index < candidates.count - 1 {
                    lastError = error
                }
            }
            throw lastError
        } catch let error as CallError {
            settlement.settle(.failed(error))
            throw error
        } catch {
            settlement.settle(.clientGone(nil))
            throw error
        }
    }

    /// One upstream call: key (user → shared → env), target, adapter operation.
    public func attempt<T: Sendable>(
        _ call: Call, candidate: Model, settlement: CallSettlement, _ operation: @Sendable (Model, UpstreamTarget) async throws -> T
    ) async throws -> T {
        let key: ResolvedKey
        let baseURL = endpoints.baseURL(for: candidate)
        do {
            key = try tracing.keyResolution(provider: candidate.provider, requestId: call.requestId) {
                try keys.resolve(userId: call.userId, provider: candidate.provider, model: candidate, baseURL: baseURL)
            } source: { $0.source }
        } catch let error as KeyResolutionError {
            let kind: CallError.Kind =
                error.unboundEndpoint != nil ? .keyNotForEndpoint
                : error.refusedVariable != nil ? .refusedKeyVariable
                : error.undecryptable ? .keyUndecryptable : .noKey
            throw CallError(kind, error.description)
        }
        settlement.attempting(candidate, key: key)
        let target = UpstreamTarget(
            provider: candidate.provider, upstreamModel: candidate.modelId, baseURL: baseURL, apiKey: key.secret,
            settings: candidate.providerSettings)
        let span = tracing.startAttempt(model: candidate, operation: call.door.operationName, streamed: call.streaming, requestId: call.requestId)
        do {
            let answer = try await operation(candidate, target)
            settlement.answered(by: span)
            return answer
        } catch let error as ProviderError {
            let failure = CallError(error, model: candidate, key: key)
            tracing.endAttempt(span, usage: nil, responseModel: nil, status: failure.status, errorKind: failure.code)
            throw failure
        } catch {
            tracing.endAttempt(span, usage: nil, responseModel: nil, status: 499, errorKind: "cancelled")
            throw error
        }
    }
}
