import Synchronization
import Tracing

/// Settles one call exactly once: a usage record (with key counters, written in batches) and the
/// ``SettlementHook``s, whichever way the call ends.
///
/// The door settles from the answer's own end (success, upstream error, client gone, cancellation);
/// if nothing did, for example a response body the server never started because the client had
/// gone, `deinit` settles as "client gone". The lock makes every later settle a no-op.
public final class CallSettlement: Sendable {
    /// How the call ended.
    public enum Outcome: Sendable {
        case success(Usage?)
        case failed(ServiceError)
        /// The client went away or the task was cancelled; `usage` is what the upstream had reported by then.
        case clientGone(Usage?)
    }

    private struct State {
        package var attempts = 0
        package var answeringModel: Model?
        package var key: ResolvedKey?
        package var bytesReceived = 0
        package var settled = false
        /// The answering attempt's span, ended at settlement with the call's tokens (streams end later than the attempt).
        package var attemptSpan: (any Span)?
        /// The deployment whose answer this is: in flight on the router until the call settles.
        package var heldDeployment: String?
    }

    public let call: Call
    private let usage: UsageRecorder
    private let hooks: [any SettlementHook]
    private let tracing: GatewayTracing
    private let router: DeploymentRouter?
    private let state = Mutex(State())

    package init(
        call: Call, usage: UsageRecorder, hooks: [any SettlementHook], tracing: GatewayTracing = .disabled, router: DeploymentRouter? = nil
    ) {
        self.call = call
        self.usage = usage
        self.hooks = hooks
        self.tracing = tracing
        self.router = router
    }

    deinit {
        record(.clientGone(nil))
    }

    /// Counts an upstream attempt with the model and key it uses.
    /// Returns the model tried before this attempt (nil for the call's first), so the pipeline can
    /// count a retry (same model) or a fallback (another model).
    @discardableResult
    package func attempting(_ model: Model, key: ResolvedKey?) -> Model? {
        state.withLock {
            let previous = $0.answeringModel
            $0.attempts += 1
            $0.answeringModel = model
            $0.key = key
            return previous
        }
    }

    /// Keeps the span of the attempt that answered and its deployment, to end and release them when the call settles.
    package func answered(by span: (any Span)?, deployment: String?) {
        state.withLock {
            $0.attemptSpan = span
            $0.heldDeployment = deployment
        }
    }

    /// Counts answer bytes relayed, for the estimate when the provider reports no usage.
    public func received(bytes: Int) {
        state.withLock { $0.bytesReceived += bytes }
    }

    public var isSettled: Bool { state.withLock { $0.settled } }

    /// Upstream attempts made so far.
    package var attempts: Int { state.withLock { $0.attempts } }

    /// Records the outcome; only the first call counts. Called by ``CallRun`` alone.
    package func settle(_ outcome: Outcome) {
        record(outcome)
    }

    private func record(_ outcome: Outcome) {
        let snapshot: State? = state.withLock { state in
            if state.settled { return nil }
            state.settled = true
            return state
        }
        guard let snapshot else { return }
        let record = makeRecord(outcome, snapshot)
        usage.record(record)
        tracing.endAttempt(
            snapshot.attemptSpan, usage: Usage(promptTokens: record.promptTokens, completionTokens: record.completionTokens),
            responseModel: (snapshot.answeringModel ?? call.model).modelId, status: record.status, errorKind: record.errorCode)
        for hook in hooks { hook.settled(record, call: call) }
        if let held = snapshot.heldDeployment { router?.released(held, tokens: record.totalTokens) }
    }

    private func makeRecord(_ outcome: Outcome, _ state: State) -> UsageRecord {
        let model = state.answeringModel ?? call.model
        var record = UsageRecord(userId: call.userId, tokenId: call.principal.tokenId, model: model.name, provider: model.provider, status: 200)
        record.requestedModel = call.model.name
        record.requestId = call.requestId
        record.attempts = state.attempts
        record.keyId = state.key?.keyId
        record.deploymentId = model.deployment?.id
        record.teamId = call.teamId
        record.keySource = state.key.flatMap { $0.source == .none ? nil : $0.source.rawValue }
        record.streamed = call.streaming
        record.budgetIds = call.admission.reservations.map(\.budgetId)
        let reported: Usage?
        switch outcome {
        case .success(let usage):
            reported = usage
        case .failed(let error):
            record.status = error.status
            record.errorCode = error.code
            reported = nil
        case .clientGone(let usage):
            record.status = 499
            record.errorCode = "client_disconnected"
            reported = usage
        }
        if let reported {
            record.setTokens(reported)
        } else if state.attempts > 0, Self.mayHaveBeenBilled(outcome) {
            // No figure from the provider, but it did (or may have done) the work: estimate and say so.
            record.promptTokens = TokenEstimate.tokens(bytes: call.body.readableBytes)
            record.completionTokens = TokenEstimate.tokens(bytes: state.bytesReceived)
            record.usageEstimated = true
        }
        let cost = model.cost(record.usage)
        record.cost = cost ?? 0
        record.priced = cost != nil
        record.latencyMs = Saturating.milliseconds(ContinuousClock.now - call.started)
        return record
    }

    /// A refused or failed upstream call bills nothing; a success or an abandoned call may have.
    private static func mayHaveBeenBilled(_ outcome: Outcome) -> Bool {
        if case .failed = outcome { return false }
        return true
    }
}
