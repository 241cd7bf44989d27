import Foundation

/// Tries a call's candidates in order: per candidate its circuit, then up to `retries` retries of
/// retryable failures with backoff, then the next candidate. Runs only until the upstream has
/// accepted the call (before the first byte reaches the client); what follows is never retried.
public struct AttemptLoop: Sendable {
    public let policy: RetryPolicy
    public let breakers: CircuitBreakers

    public init(policy: RetryPolicy, breakers: CircuitBreakers) {
        self.policy = policy
        self.breakers = breakers
    }

    /// The answer, the candidate that gave it, and how many upstream attempts it took.
    public struct Outcome<Value: Sendable>: Sendable {
        public var value: Value
        public var model: Model
        public var circuit: CircuitBreakers.Key
        public var attempts: Int
    }

    /// What a failed attempt means for the loop.
    public enum Disposition: Sendable {
        case retry
        case fallOver
        case fail
    }

    /// Throws the last attempt's error (or a ``TrafficError`` when every circuit was open).
    /// `attempts` counts the upstream calls made, also when it throws.
    public func run<Value: Sendable>(
        candidates: [Model],
        deadline: ContinuousClock.Instant,
        circuit: (Model) -> CircuitBreakers.Key,
        attempts: inout Int,
        _ operation: (Model) async throws -> Value
    ) async throws -> Outcome<Value> {
        var lastError: (any Error)?
        var shortestOpen: Int?
        nextCandidate: for model in candidates {
            let key = circuit(model)
            var retry = 0
            while true {
                if case .refused(let seconds) = breakers.acquire(key) {
                    shortestOpen = min(shortestOpen ?? seconds, seconds)
                    continue nextCandidate
                }
                attempts += 1
                do {
                    let value = try await operation(model)
                    breakers.record(key, success: true)
                    return Outcome(value: value, model: model, circuit: key, attempts: attempts)
                } catch {
                    lastError = error
                    let disposition = Self.disposition(of: error)
                    breakers.record(key, success: Self.countsAgainstCircuit(error) ? false : nil, error: Self.label(error))
                    switch disposition {
                    case .fail: throw error
                    case .fallOver: continue nextCandidate
                    case .retry:
                        guard retry < policy.retries, let providerError = error as? ProviderError else { continue nextCandidate }
                        retry += 1
                        let wait = policy.delay(retry: retry, after: providerError)
                        if ContinuousClock.now + wait >= deadline { continue nextCandidate }
                        try await Task.sleep(for: wait)
                    }
                }
            }
        }
        if let lastError { throw lastError }
        throw TrafficError(
            kind: .providerUnavailable,
            message: "The upstream of '\(candidates.first?.name ?? "")' is failing and its circuit is open; retry later.",
            retryAfterSeconds: shortestOpen ?? 1
        )
    }

    static func disposition(of error: any Error) -> Disposition {
        switch error {
        case let error as ProviderError:
            if RetryPolicy.isRetryable(error) { return .retry }
            if case .upstreamRejected(let status, _, _, _, _) = error, [401, 403, 404].contains(status) { return .fallOver }
            if case .invalidResponse = error { return .fallOver }
            return .fail
        case is KeyResolutionError, is TrafficError:
            return .fallOver
        default:
            return .fail
        }
    }

    /// Upstream health failures only: a rejected key or a bad request says nothing about the upstream.
    static func countsAgainstCircuit(_ error: any Error) -> Bool {
        guard let error = error as? ProviderError else { return false }
        switch error {
        case .upstreamFailed, .timeout, .unreachable, .invalidResponse: return true
        case .upstreamRejected, .invalidRequest: return false
        }
    }

    /// A short label for the health page: kind and status, never the upstream's text.
    static func label(_ error: any Error) -> String? {
        guard let error = error as? ProviderError else { return nil }
        switch error {
        case .upstreamRejected(let status, _, _, _, _): return "rejected (\(status))"
        case .upstreamFailed(let status, _): return "upstream error (\(status))"
        case .timeout: return "timeout"
        case .unreachable: return "unreachable"
        case .invalidResponse: return "invalid response"
        case .invalidRequest: return "invalid request"
        }
    }
}
