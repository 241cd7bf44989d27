import Foundation
import Logging
import Synchronization

/// The traffic capability's entry points for the call pipeline: ``admit(model:candidates:userId:tokenId:promptBytes:maxOutputTokens:)``
/// in `CallPipeline.admit` (budgets reserve, rate and token limits), ``candidates(for:)`` and
/// ``attempts`` in route and run, and ``settle(_:cost:tokens:)`` once per call through
/// ``TrafficSettlementHook``.
public final class TrafficControl: Sendable {
    public let settings: TrafficSettings
    public let limiter: RateLimiter
    public let budgets: BudgetBook
    public let breakers: CircuitBreakers
    public let keyHealth: KeyHealth?
    public let attempts: AttemptLoop
    /// The route step's choice among a model's deployments.
    public let router: DeploymentRouter
    package let registry: ModelRegistry
    package let logger: Logger
    /// Settlements still writing to the shared database (PostgreSQL), awaited by this instance's next admission.
    private let inFlight = Mutex<[Int: Task<Void, Never>]>([:])
    private let nextTicket = Atomic<Int>(0)

    /// What admission took, handed back to ``settle(_:cost:tokens:)``.
    public struct Admission: Sendable {
        package var reservations: [BudgetRows.Reservation] = []
        package var windows: [RateWindow] = []
        /// The estimate reserved: prompt bytes / 4 plus the call's maximum output tokens.
        public var estimatedTokens = 0
        public var estimatedCost = 0.0

        package var isEmpty: Bool { reservations.isEmpty && windows.isEmpty }
    }

    /// `events` receives the alerts raised here (`budget.exceeded`, `circuit.open`); nil sends none.
    public init(
        database: Database, registry: ModelRegistry, keyHealth: KeyHealth?, settings: TrafficSettings, logger: Logger,
        events: WebhookEmitter? = nil, now: @escaping @Sendable () -> Int64 = Clock.nowMillis
    ) {
        self.settings = settings
        self.registry = registry
        self.keyHealth = keyHealth
        self.logger = logger
        limiter = RateLimiter(database: database, settings: settings, logger: logger, now: now)
        budgets = BudgetBook(database: database, instanceId: limiter.instances?.id ?? "single", logger: logger, events: events)
        breakers = CircuitBreakers(settings: settings.circuit, now: now) { [events] key, lastError, retryAfter in
            events?.emit(
                .circuitOpen(
                    provider: key.provider.rawValue, baseURL: key.baseURL, upstreamModel: key.upstreamModel, lastError: lastError,
                    retryAfterSeconds: retryAfter))
        }
        attempts = AttemptLoop(policy: settings.retry, breakers: breakers)
        router = DeploymentRouter(now: now)
    }

    /// The model, then its active `fallbacks` in order.
    public func candidates(for model: Model) -> [Model] {
        FallbackChain.candidates(for: model, in: registry)
    }

    /// Reserves the call's estimate on its budgets, then counts it against the model's limits for
    /// the caller and the token's own (`restrictions`). Priced at the dearest candidate, so a fallback never spends past a budget.
    public func admit(
        model: Model, candidates: [Model], userId: String?, tokenId: String, teamId: String? = nil, restrictions: TokenRestrictions? = nil,
        teamWindows: [RateWindow] = [], promptBytes: Int, maxOutputTokens: Int
    ) async throws(ServiceError) -> Admission {
        let caller = userId.map { "user:\($0)" } ?? "token:\(tokenId)"
        var admission = Admission(windows: RateWindow.windows(for: model, caller: caller))
        if let restrictions { admission.windows += restrictions.windows(tokenId: tokenId) }
        admission.windows += teamWindows
        let budgets = self.budgets.budgets(userId: userId, tokenId: tokenId, teamId: teamId)
        guard !budgets.isEmpty || !admission.windows.isEmpty else { return admission }
        await settlementsWritten()
        if !budgets.isEmpty {
            let promptTokens = TokenEstimate.tokens(bytes: promptBytes)
            admission.estimatedTokens = TokenCount.sum(promptTokens, maxOutputTokens)
            let reachable = candidates.isEmpty ? [model] : candidates
            if budgets.contains(where: { $0.maxCost != nil }), let unpriced = reachable.first(where: { $0.prices == nil && !$0.allowUnpriced }) {
                throw ServiceError(
                    .modelUnpriced,
                    "Model '\(unpriced.name)' has no prices, so a call to it cannot be counted against your cost budget. "
                        + "An admin can set its prices, or allowUnpriced on the model.")
            }
            let dearest = reachable.compactMap { $0.prices?.dearest(promptTokens: promptTokens) }
            let input = dearest.map(\.input).max() ?? 0
            let output = dearest.map(\.output).max() ?? 0
            admission.estimatedCost = (Double(promptTokens) * input + Double(maxOutputTokens) * output) / 1_000_000
            admission.reservations = try await self.budgets.reserve(
                budgets, cost: admission.estimatedCost, tokens: admission.estimatedTokens, now: Clock.nowMillis())
        }
        do {
            try await limiter.admit(admission.windows, modelName: model.name)
        } catch {
            settle(admission, cost: 0, tokens: 0)
            throw error
        }
        return admission
    }

    /// Replaces the reservations with the real cost and adds the tokens to the token windows.
    /// Returns at once: memory is settled here (token windows too: on PostgreSQL they are written in
    /// batches); shared budget rows by a task this instance's next admission waits for, so one
    /// caller's calls in a row always see each other's spending.
    public func settle(_ admission: Admission, cost: Double, tokens: Int) {
        guard !admission.isEmpty else { return }
        limiter.settle(tokens: tokens, windows: admission.windows)
        let inRows = budgets.settleInMemory(admission.reservations, cost: cost, tokens: tokens)
        guard !inRows.isEmpty else { return }
        let ticket = nextTicket.wrappingAdd(1, ordering: .relaxed).newValue
        inFlight.withLock { tasks in
            tasks[ticket] = Task {
                await self.budgets.settleShared(inRows, cost: cost, tokens: tokens)
                _ = self.inFlight.withLock { $0.removeValue(forKey: ticket) }
            }
        }
    }

    /// Waits for this instance's settlements still writing to the shared database.
    package func settlementsWritten() async {
        let pending = inFlight.withLock { $0.isEmpty ? [] : Array($0.values) }
        for task in pending { await task.value }
    }

    /// Reports a provider's 401/403 on a stored key, so resolution skips it from now on.
    public func keyRejected(keyId: String, status: Int) {
        keyHealth?.reportRejected(keyId: keyId, status: status)
    }

    /// Every circuit, each with what the router knows of its deployment's room.
    public func circuitStatuses() -> [CircuitBreakers.Status] {
        breakers.statuses().map { status in
            var status = status
            status.headroom = status.deployment.flatMap(router.status)
            return status
        }
    }

    /// The circuit of a model as the gateway would call it.
    public static func circuit(for model: Model, endpoints: UpstreamEndpoints) -> CircuitBreakers.Key {
        CircuitBreakers.Key(
            provider: model.provider, baseURL: endpoints.baseURL(for: model), upstreamModel: model.modelId, deployment: model.deployment?.id)
    }
}
