import Foundation

/// Tries a call's candidates in order: per candidate its circuit, then the next candidate. Consecutive
/// candidates of one registry model are its deployments: a failure moves to the next deployment at once,
/// and a retryable failure of the model's last deployment is retried there with backoff, up to `retries`
/// per model in all; then the model's fallbacks. Runs only until the upstream has accepted the call
/// (before the first byte reaches the client); what follows is never retried.
///
/// The call's deadline bounds the whole loop, every attempt and fallback included (an attempt's own
/// wait is cut at the deadline by ``UpstreamClient/callDeadline``, set on the copy each attempt gets), and at most `maxAttempts`
/// upstream calls are made: one request can never fan out into dozens or hold a connection for hours.
public struct AttemptLoop: Sendable {
    public let policy: RetryPolicy
    public let breakers: CircuitBreakers

    public init(policy: RetryPolicy, breakers: CircuitBreakers) {
        self.policy = policy
        self.breakers = breakers
    }

    /// The answer and the candidate that gave it.
    public struct Outcome<Value: Sendable>: Sendable {
        public var value: Value
        public var model: Model
        public var circuit: CircuitBreakers.Key
    }

    /// What a failed attempt means for the loop.
    public enum Disposition: Sendable {
        case retry
        case fallOver
        case fail
    }

    /// Throws the last attempt's ``ServiceError`` (or `provider_unavailable` when every circuit was open).
    public func run<Value: Sendable>(
        candidates: [Model],
        deadline: ContinuousClock.Instant,
        circuit: (Model) -> CircuitBreakers.Key,
        _ operation: (Model) async throws -> Value
    ) async throws -> Outcome<Value> {
        var lastError: ServiceError?
        var shortestOpen: Int?
        var attempts = 0
        var retries: [String: Int] = [:]
        nextCandidate: for (index, model) in candidates.enumerated() {
            let key = circuit(model)
            let anotherDeployment = index + 1 < candidates.count && candidates[index + 1].id == model.id
            while true {
                // Out of time or attempts: the last upstream failure ends the call (a timeout when the deadline cut an attempt).
                if ContinuousClock.now >= deadline {
                    throw lastError ?? ServiceError(.upstreamTimeout, "The call's deadline passed before an upstream could be tried.")
                }
                if attempts >= policy.maxAttempts, let lastError { throw lastError }
                if case .refused(let seconds) = breakers.acquire(key) {
                    shortestOpen = min(shortestOpen ?? seconds, seconds)
                    continue nextCandidate
                }
                attempts += 1
                do {
                    let value = try await operation(model)
                    breakers.record(key, success: true)
                    return Outcome(value: value, model: model, circuit: key)
                } catch let error as ServiceError {
                    lastError = error
                    breakers.record(key, success: Self.countsAgainstCircuit(error) ? false : nil, error: Self.label(error))
                    switch Self.disposition(of: error) {
                    case .fail: throw error
                    case .fallOver: continue nextCandidate
                    case .retry:
                        let retry = retries[model.id, default: 0] + 1
                        guard retry <= policy.retries else { continue nextCandidate }
                        retries[model.id] = retry
                        if anotherDeployment { continue nextCandidate }
                        let wait = policy.delay(retry: retry, after: error)
                        if ContinuousClock.now + wait >= deadline { continue nextCandidate }
                        try await Task.sleep(for: wait)
                    }
                } catch {
                    // Not an upstream answer (the client went away, the task was cancelled): the circuit learns nothing.
                    breakers.record(key, success: nil, error: nil)
                    throw error
                }
            }
        }
        if let lastError { throw lastError }
        throw ServiceError.refusal(
            .providerUnavailable, "The upstream of '\(candidates.first?.name ?? "")' is failing and its circuit is open; retry later.",
            retryAfterSeconds: shortestOpen ?? 1)
    }

    /// Retry the same candidate on a transient upstream failure; fall over to the next one when this
    /// candidate cannot answer (its key, its upstream model, its answers); fail on the client's own mistakes.
    package static func disposition(of error: ServiceError) -> Disposition {
        if RetryPolicy.isRetryable(error) { return .retry }
        return error.kind.rule.retryable ? .fallOver : .fail
    }

    /// Upstream health failures only: a rejected key or a bad request says nothing about the upstream.
    package static func countsAgainstCircuit(_ error: ServiceError) -> Bool {
        switch error.kind {
        case .upstreamFailed, .upstreamTimeout, .upstreamUnreachable, .upstreamInvalidResponse: true
        default: false
        }
    }

    /// A short label for the health page: kind and status, never the upstream's text.
    package static func label(_ error: ServiceError) -> String? {
        let status = error.upstreamStatus.map { " (\($0))" } ?? ""
        switch error.kind {
        case .upstreamFailed: return "upstream error\(status)"
        case .upstreamTimeout: return "timeout"
        case .upstreamUnreachable: return "unreachable"
        case .upstreamInvalidResponse: return "invalid response"
        case .upstreamRejected, .upstreamRateLimited, .providerKeyRejected, .upstreamModelNotFound: return "rejected\(status)"
        default: return nil
        }
    }
}
