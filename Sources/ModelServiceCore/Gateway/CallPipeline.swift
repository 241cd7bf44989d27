import Foundation
import NIOCore

/// The one path every LLM call takes, whatever door it came in by: admit → route → attempt → relay or
/// translate → settle. A door hands over a ``CallRequest`` with its codec and gets back the answer or the
/// stream to relay (``start(_:)``); the call's life after admission is a ``CallRun``, which settles it once.
///
/// Nothing here throws an HTTP type: failures are ``ServiceError``s, whose table gives status and code.
public struct CallPipeline: Sendable {
    package let registry: ModelRegistry
    package let keys: KeyResolver
    package let endpoints: UpstreamEndpoints
    public let upstream: UpstreamClient
    package let usage: UsageRecorder
    package let traffic: TrafficControl
    /// Budgets, metrics and breakers settle here (see ``SettlementHook``).
    package let hooks: [any SettlementHook]
    /// Gateway metrics (also a settlement hook; time to first token is recorded by the stream loop).
    package let metrics: GatewayMetrics
    /// Attempt and key-resolution spans; no-ops unless tracing is on.
    package let tracing: GatewayTracing
    /// Teams and memberships: the call's team. Nil: calls are for their token's team only.
    package let teams: TeamStore?

    public init(
        registry: ModelRegistry, keys: KeyResolver, endpoints: UpstreamEndpoints, upstream: UpstreamClient, usage: UsageRecorder,
        traffic: TrafficControl, hooks: [any SettlementHook] = [], metrics: GatewayMetrics = GatewayMetrics(),
        tracing: GatewayTracing = .disabled, teams: TeamStore? = nil
    ) {
        self.teams = teams
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

    /// Runs a call: admission, then its attempts, then the whole answer (settled) or the stream the door
    /// hands its response body to (settled when the stream ends, however it ends).
    package func start(_ request: CallRequest) async throws(ServiceError) -> CallReply {
        let call = try await admit(request)
        return try await CallRun(call: call, pipeline: self).start()
    }

    // MARK: admit

    /// Who calls, for which user, which model, and whether it may be called now: the model and its
    /// candidates are looked up once, the door's codec is prepared for them, then budgets reserve the
    /// call's estimate and rate and token limits count it (traffic control).
    ///
    /// A service or admin token names the user it calls for (`X-User-Id`, or the body's user field); a user
    /// token calls only for its own. `billed: false` (Anthropic's free `count_tokens`) skips traffic control.
    package func admit(_ request: CallRequest, billed: Bool = true) async throws(ServiceError) -> Call {
        guard let model = registry.model(named: request.modelName), model.isActive else {
            throw ServiceError(.unknownModel, "The model '\(request.modelName)' does not exist or is not active.")
        }
        if let restrictions = request.principal.restrictions, !restrictions.allows(model.name) {
            // The model is named; the token's list is not (it would tell a caller what else it may reach).
            throw ServiceError(.modelNotAllowed, "This access token may not call the model '\(model.name)'.", field: "model")
        }
        if model.mode != request.door.mode {
            throw ServiceError(
                .wrongEndpoint, "The model '\(model.name)' is a \(model.mode.rawValue) model: call it with \(model.mode.endpoint).", field: "model")
        }
        let capability = request.format.capability
        let userId = try Self.user(principal: request.principal, namedUser: request.namedUser, bodyUser: request.bodyUser)
        let teamId = try team(for: request.principal, userId: userId, named: request.namedTeam)
        if request.streaming, !model.supportsStreaming {
            throw ServiceError.invalidRequest("stream", "the model '\(model.name)' does not support streaming")
        }
        if request.streaming, request.format.streamEncoder(model: model) == nil {
            throw ServiceError.invalidRequest("stream", "this endpoint does not stream")
        }
        if model.provider == .openaiCompatible, let server = CompatibleServer(model: model),
            let refusal = server.refusal(door: request.door, streaming: request.streaming, body: request.body, model: model.name)
        {
            throw refusal
        }
        let output =
            request.door == .embeddings
            ? 0 : try Self.outputLimit(requested: request.maxOutputTokens, field: request.outputField, model: model, door: request.door)
        let conversation = Self.needsConversation(model) ? ConversationKey.of(request.body, caller: userId ?? request.principal.tokenId) : nil
        let candidates = route(model, capability: capability, conversation: conversation, restrictions: request.principal.restrictions)
        guard candidates.first?.id == model.id else { throw capability.refusal(provider: model.provider, model: model.name) }
        let format = try request.format.prepared(for: candidates)
        let started = ContinuousClock.now
        let serviceTimeout = Duration.nanoseconds(upstream.requestTimeout.nanoseconds)
        var call = Call(
            door: request.door, principal: request.principal, userId: userId, model: model, body: request.body, streaming: request.streaming,
            requestId: request.requestId, started: started, deadline: started + min(serviceTimeout, request.timeout ?? serviceTimeout),
            candidates: candidates, conversation: conversation, format: format)
        call.teamId = teamId
        guard billed else { return call }
        call.admission = try await traffic.admit(
            model: model, candidates: candidates, userId: userId, tokenId: request.principal.tokenId, teamId: teamId,
            restrictions: request.principal.restrictions, teamWindows: teamId.flatMap { teams?.windows(teamId: $0, model: model) } ?? [],
            promptBytes: request.body.readableBytes, maxOutputTokens: output)
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

    /// The team a call is for: its token's; else the one `X-Team-Id` names, which the call's user must be in (an
    /// admin or service token calling for no user may name any team); else the user's team when it has one only.
    package func team(for principal: Principal, userId: String?, named: String?) throws(ServiceError) -> String? {
        if let own = principal.teamId {
            if let named, named != own { throw .invalidRequest("X-Team-Id", "this access token calls for its own team only") }
            // A user token of someone removed from its team no longer reaches the team's keys and budgets.
            if principal.role == .user, let user = principal.userId, let teams, teams.role(userId: user, teamId: own) == nil {
                throw .forbidden("This access token's user is no longer in its team; ask a team admin for a new token.")
            }
            return own
        }
        guard let teams else { return nil }
        if let named {
            let allowed = userId.map { teams.role(userId: $0, teamId: named) != nil } ?? (principal.actsForAnyUser && teams.team(id: named) != nil)
            guard allowed else { throw .invalidRequest("X-Team-Id", "no such team, or the call's user is not in it") }
            return named
        }
        guard let userId else { return nil }
        let memberships = teams.memberships(of: userId)
        if memberships.count > 1 {
            throw .invalidRequest("X-Team-Id", "the user '\(userId)' is in several teams: name the one this call is for with X-Team-Id")
        }
        return memberships.first?.key
    }

    // MARK: route

    /// The models to try, in order: the one asked for, then its active `fallbacks`, each as its deployments in
    /// the order the router chose for this call. Deployments whose providers lack the capability the door
    /// needs are skipped, not failed; when none of the asked model's can answer, the list does not start with it.
    /// Fallbacks a scoped token may not call (`restrictions`) are left out.
    package func route(_ model: Model, capability: ProviderCapability, conversation: Int? = nil, restrictions: TokenRestrictions? = nil) -> [Model] {
        traffic.candidates(for: model).filter { restrictions?.allows($0.name) ?? true }.flatMap { candidate in
            traffic.router.order(candidate, conversation: conversation).filter {
                ProviderAdapters.adapter(for: $0.provider).capabilities.contains(capability)
            }
        }
    }

    /// Whether the call's conversation is worth working out: the model asked for chooses among deployments with affinity.
    private static func needsConversation(_ model: Model) -> Bool {
        model.routing.promptCacheAffinity && model.deployments.count > 1
    }

    /// The upstream target of `candidate` for a call: its base URL and the key resolved for the caller
    /// (user → team → shared → environment). A provider's refusal of a stored key makes the next call skip it.
    package func target(for candidate: Model, userId: String?, teamId: String? = nil, requestId: String) throws(ServiceError) -> (UpstreamTarget, ResolvedKey) {
        let baseURL = endpoints.baseURL(for: candidate)
        let key: ResolvedKey
        do {
            key = try tracing.keyResolution(provider: candidate.provider, requestId: requestId) {
                try keys.resolve(userId: userId, teamId: teamId, provider: candidate.provider, model: candidate, baseURL: baseURL)
            } source: { $0.source }
        } catch let error as KeyResolutionError {
            throw ServiceError(error)
        } catch {
            throw ServiceError(.internalError, "The key could not be resolved.")
        }
        let target = UpstreamTarget(
            provider: candidate.provider, upstreamModel: candidate.modelId, baseURL: baseURL, apiKey: key.secret, settings: endpoints.settings(for: candidate))
        return (target, key)
    }

    /// The settlement of an admitted call: its one usage record and hooks.
    package func settlement(for call: Call) -> CallSettlement {
        CallSettlement(call: call, usage: usage, hooks: hooks, tracing: tracing, router: traffic.router)
    }
}
