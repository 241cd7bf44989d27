import Foundation
import Logging

/// The traffic capability's entry points for the call pipeline:
/// ``admit(model:candidates:userId:tokenId:request:)`` before routing (budgets reserve, rate and
/// token limits), ``candidates(for:)`` and ``attempts`` while routing and attempting, and
/// ``settle(_:cost:tokens:)`` exactly once when the call ends.
public final class TrafficControl: Sendable {
    public let settings: TrafficSettings
    public let limiter: RateLimiter
    public let budgets: BudgetBook
    public let breakers: CircuitBreakers
    public let keyHealth: KeyHealth?
    public let attempts: AttemptLoop
    let registry: ModelRegistry
    let logger: Logger

    /// What admission took, handed back to ``settle(_:cost:tokens:)``.
    public struct Admission: Sendable {
        var reservations: [BudgetLedger.Reservation] = []
        var windows: [RateWindow] = []
        /// The estimate reserved: prompt bytes / 4 plus the call's maximum output tokens.
        public var estimatedTokens = 0
        public var estimatedCost = 0.0
    }

    public init(
        database: Database, registry: ModelRegistry, keyHealth: KeyHealth?, settings: TrafficSettings, logger: Logger,
        now: @escaping @Sendable () -> Int64 = Clock.nowMillis
    ) {
        self.settings = settings
        self.registry = registry
        self.keyHealth = keyHealth
        self.logger = logger
        limiter = RateLimiter(database: database, settings: settings, logger: logger, now: now)
        budgets = BudgetBook(database: database)
        breakers = CircuitBreakers(settings: settings.circuit, now: now)
        attempts = AttemptLoop(policy: settings.retry, breakers: breakers)
    }

    /// The model, then its active `fallbacks` in order.
    public func candidates(for model: Model) -> [Model] {
        FallbackChain.candidates(for: model, in: registry)
    }

    /// Reserves the call's estimate on its budgets, then counts it against the model's limits for
    /// the caller. Priced at the dearest candidate, so a fallback never spends past a budget.
    public func admit(model: Model, candidates: [Model], userId: String?, tokenId: String, request: ChatCompletionRequest) async throws -> Admission {
        let caller = userId.map { "user:\($0)" } ?? "token:\(tokenId)"
        var admission = Admission(windows: RateWindow.windows(for: model, caller: caller))
        let budgets = self.budgets.budgets(userId: userId, tokenId: tokenId)
        guard !budgets.isEmpty || !admission.windows.isEmpty else { return admission }
        if !budgets.isEmpty {
            let promptBytes = (try? JSONEncoder().encode(request.messages).count) ?? 0
            let output = request.effectiveMaxTokens ?? 4_096
            admission.estimatedTokens = promptBytes / 4 + output
            let input = candidates.map(\.inputCostPer1kTokens).max() ?? model.inputCostPer1kTokens
            let outputPrice = candidates.map(\.outputCostPer1kTokens).max() ?? model.outputCostPer1kTokens
            admission.estimatedCost = (Double(promptBytes / 4) * input + Double(output) * outputPrice) / 1000
            do {
                admission.reservations = try await self.budgets.reserve(
                    budgets, cost: admission.estimatedCost, tokens: admission.estimatedTokens, now: Clock.nowMillis())
            } catch let error as TrafficError {
                throw error
            } catch {
                logger.warning("budgets cannot be reserved", metadata: ["error": "\(Database.describe(error))"])
                throw TrafficError(kind: .limitsUnavailable, message: "Budgets cannot be checked right now; retry shortly.", retryAfterSeconds: 5)
            }
        }
        do {
            try await limiter.admit(admission.windows, modelName: model.name)
        } catch {
            await settle(admission, cost: 0, tokens: 0)
            throw error
        }
        return admission
    }

    /// Replaces the reservations with the real cost and adds the tokens to the token windows.
    public func settle(_ admission: Admission, cost: Double, tokens: Int) async {
        await limiter.settle(tokens: tokens, windows: admission.windows)
        guard !admission.reservations.isEmpty else { return }
        do {
            _ = try await BudgetLedger.settle(admission.reservations, cost: cost, tokens: tokens, database: budgets.database)
        } catch {
            logger.error("settling a budget failed", metadata: ["error": "\(Database.describe(error))"])
        }
    }

    /// Reports a provider's 401/403 on a stored key, so resolution skips it from now on.
    public func keyRejected(keyId: String, status: Int) {
        keyHealth?.reportRejected(keyId: keyId, status: status)
    }

    /// The circuit of a model as the gateway would call it.
    public static func circuit(for model: Model, endpoints: UpstreamEndpoints) -> CircuitBreakers.Key {
        CircuitBreakers.Key(provider: model.provider, baseURL: endpoints.baseURL(for: model), upstreamModel: model.modelId)
    }
}
