import Foundation
import NIOCore

/// One admitted call from its first attempt to its settlement: the attempts (circuit breakers, keys,
/// retries and fallbacks within the call's deadline), then the whole answer, or the one stream loop every
/// door's stream goes through. Every ending is settled here, once: success, an upstream error before or
/// after the first byte, a client that leaves, cancellation, a deadline. No other file settles a call.
package final class CallRun: Sendable {
    package let call: Call
    private let pipeline: CallPipeline
    private let settlement: CallSettlement

    init(call: Call, pipeline: CallPipeline) {
        self.call = call
        self.pipeline = pipeline
        self.settlement = pipeline.settlement(for: call)
    }

    /// The attempts; for a whole answer also its encoding and settlement, for a stream the handle to relay it.
    func start() async throws(ServiceError) -> CallReply {
        let format = call.format
        if call.streaming {
            let (model, stream) = try await attempts { adapter, upstreamCall, target, client in
                try await adapter.open(upstreamCall, target: target, client: client)
            }
            return .stream(CallStream(run: self, model: model, upstream: stream))
        }
        let (model, answer) = try await attempts { adapter, upstreamCall, target, client in
            try await adapter.send(upstreamCall, target: target, client: client)
        }
        do {
            let (body, usage) = try format.encode(answer, model: model, call: call)
            settlement.received(bytes: body.readableBytes)
            settlement.settle(.success(usage))
            return .answer(body, model: model)
        } catch {
            let failure = Self.failure(error, model: model)
            settlement.settle(.failed(failure))
            throw failure
        }
    }

    // MARK: attempts

    /// Tries the candidates in order (``AttemptLoop``: circuit breakers, retries with backoff, then the next
    /// candidate, within the call's deadline and its bound on attempts) until one upstream accepts the call.
    /// That happens only before the answer starts: a stream's body is read later, never retried. A failure
    /// that ends the call is settled here.
    private func attempts<T: Sendable>(
        _ operation: @Sendable (any ProviderAdapter, UpstreamCall, UpstreamTarget, UpstreamClient) async throws -> T
    ) async throws(ServiceError) -> (Model, T) {
        let endpoints = pipeline.endpoints
        do {
            let outcome = try await pipeline.traffic.attempts.run(
                candidates: call.candidates, deadline: call.deadline, circuit: { TrafficControl.circuit(for: $0, endpoints: endpoints) }
            ) { candidate in
                try await attempt(candidate, operation)
            }
            return (outcome.model, outcome.value)
        } catch let error as ServiceError {
            settlement.settle(.failed(error))
            throw error
        } catch {
            settlement.settle(.clientGone(nil))
            throw ServiceError(.upstreamTimeout, "The call was cancelled before an upstream answered.")
        }
    }

    /// One upstream call with the key resolved for it. A provider's 401/403 on a stored key marks the key
    /// invalid (``KeyHealth``), and a 429 on a pooled key rests that key: the same call then tries the next key.
    /// The router hears of the attempt (in flight, time to first byte, the provider's rate-limit headers).
    private func attempt<T: Sendable>(
        _ candidate: Model, _ operation: @Sendable (any ProviderAdapter, UpstreamCall, UpstreamTarget, UpstreamClient) async throws -> T
    ) async throws -> T {
        let adapter = ProviderAdapters.adapter(for: candidate.provider)
        let upstreamCall = try call.format.upstreamCall(for: candidate)
        let router = pipeline.traffic.router
        var rejected: Set<String> = []
        while true {
            let (target, key) = try pipeline.target(for: candidate, userId: call.userId, teamId: call.teamId, requestId: call.requestId)
            if let previous = settlement.attempting(candidate, key: key) {
                if previous.id == candidate.id {
                    pipeline.metrics.recordRetry(model: candidate.name, provider: candidate.provider)
                } else {
                    pipeline.metrics.recordFallback(from: previous.name, to: candidate.name)
                }
            }
            let span = pipeline.tracing.startAttempt(
                model: candidate, operation: call.door.operationName, streamed: call.streaming, requestId: call.requestId)
            let deployment = candidate.deployment?.id
            if let deployment { router.began(deployment) }
            let attemptStarted = ContinuousClock.now
            do {
                var upstream = pipeline.upstream
                upstream.callDeadline = call.deadline
                // A pooled key's limits are the key's, not the deployment's: the pool rests the key instead.
                if let deployment, !key.pooled {
                    upstream.rateLimitObserver = { limits in router.observed(deployment, limits) }
                }
                let answer: T = try await operation(adapter, upstreamCall, target, upstream)
                if let deployment {
                    attemptEnded(candidate, deployment, answered: true, elapsed: .now - attemptStarted)
                    if let conversation = call.conversation { router.stick(conversation, to: deployment) }
                }
                settlement.answered(by: span, deployment: deployment)
                return answer
            } catch let error as ProviderError {
                if let deployment { attemptEnded(candidate, deployment, answered: false, elapsed: .now - attemptStarted) }
                let failure = ServiceError(error, model: candidate, key: key)
                pipeline.tracing.endAttempt(span, usage: nil, responseModel: nil, status: failure.status, errorKind: failure.code)
                if failure.kind == .upstreamRateLimited, key.pooled, let keyId = key.keyId, rejected.insert(keyId).inserted, rejected.count < 4,
                    settlement.attempts < pipeline.traffic.attempts.policy.maxAttempts
                {
                    pipeline.keys.coolDown(keyId, millis: Self.restMillis(failure))
                    continue
                }
                // Stored keys only (an environment key has no id to mark), each at most once per call.
                if failure.kind == .providerKeyRejected, let keyId = key.keyId, rejected.insert(keyId).inserted, rejected.count < 4,
                    settlement.attempts < pipeline.traffic.attempts.policy.maxAttempts
                {
                    pipeline.traffic.keyRejected(keyId: keyId, status: failure.upstreamStatus ?? 401)
                    continue
                }
                throw failure
            } catch let error as ServiceError {
                if let deployment { attemptEnded(candidate, deployment, answered: false, elapsed: .now - attemptStarted) }
                pipeline.tracing.endAttempt(span, usage: nil, responseModel: nil, status: error.status, errorKind: error.code)
                throw error
            } catch {
                // The caller left or the task was cancelled: in flight no more, and nothing learned of the upstream.
                if let deployment { router.attemptEnded(deployment, answered: false, elapsed: nil) }
                pipeline.tracing.endAttempt(span, usage: nil, responseModel: nil, status: 499, errorKind: "cancelled")
                throw error
            }
        }
    }

    /// Tells the router and the metrics how an attempt on a deployment ended.
    private func attemptEnded(_ candidate: Model, _ deployment: String, answered: Bool, elapsed: Duration) {
        pipeline.traffic.router.attemptEnded(deployment, answered: answered, elapsed: elapsed)
        pipeline.metrics.recordDeploymentAttempt(model: candidate.name, deployment: deployment, answered: answered, firstByte: elapsed)
    }

    /// How long a pooled key rests after a 429: the provider's `Retry-After`, else a minute (a rate window).
    private static func restMillis(_ failure: ServiceError) -> Int64 {
        let wait = RetryPolicy.retryAfter(failure.retryAfter, now: Date(), cap: .milliseconds(UpstreamRateLimits.maxWaitMillis))
        return wait.map { Int64(Saturating.milliseconds($0)) } ?? 60_000
    }

    // MARK: the stream loop

    /// Relays a streamed answer to the client through the door's encoder, event by event, and settles the
    /// call from the stream's own end: done, an upstream error (said in the stream: the 200 is already sent),
    /// or a client that left (leaving the loop cancels the upstream request).
    func relay(_ upstream: UpstreamStream, model: Model, into write: FrameWriter) async {
        guard var encoder = call.format.streamEncoder(model: model) else {
            settlement.settle(.failed(ServiceError(.invalidRequest, "This endpoint does not stream.")))
            return
        }
        var first = true
        var chatStream: ChatChunkStream?
        // Counted here and handed over once at the end: no lock per frame.
        var sent = 0
        func reported() -> Usage? { chatStream?.usage ?? encoder.usage }
        func send(_ frames: ByteBuffer) async throws {
            guard frames.readableBytes > 0 else { return }
            sent = Saturating.add(sent, frames.readableBytes)
            try await write(frames)
        }
        func settle(_ outcome: CallSettlement.Outcome) {
            settlement.received(bytes: sent)
            settlement.settle(outcome)
        }
        do {
            try await send(encoder.start())
            switch upstream {
            case .chat(let stream):
                chatStream = stream
                for try await chunk in stream {
                    if first { firstByte(model, &first) }
                    try await send(encoder.encode(.chunk(chunk)))
                }
            case .relayed(let events):
                for try await bytes in events {
                    if first { firstByte(model, &first) }
                    try await send(encoder.encode(.bytes(bytes)))
                }
            }
            try await send(encoder.finish(usage: reported()))
            if let truncation = encoder.truncation { throw truncation }
            if let relayed = encoder.relayedFailure {
                // Already in the stream as the upstream's own error event.
                settle(.failed(ServiceError(relayed, model: model, key: nil)))
            } else {
                settle(.success(reported()))
            }
        } catch let error as ProviderError {
            let failure = ServiceError(error, model: model, key: nil)
            settle(.failed(failure))
            try? await write(encoder.failure(failure))
        } catch {
            // The client went away, or the task was cancelled.
            settle(.clientGone(reported()))
        }
    }

    /// Time to first token, at the first upstream event.
    private func firstByte(_ model: Model, _ first: inout Bool) {
        first = false
        pipeline.metrics.recordTimeToFirstToken(model: model.name, provider: model.provider, door: call.door.metricsLabel, duration: .now - call.started)
    }

    /// Any failure of a whole answer's encoding as the call's error: an upstream's answer this door cannot read.
    private static func failure(_ error: any Error, model: Model) -> ServiceError {
        switch error {
        case let error as ServiceError: error
        case let error as ProviderError: ServiceError(error, model: model, key: nil)
        default: ServiceError(.upstreamInvalidResponse, "The upstream's answer could not be read.")
        }
    }
}

/// What a door gets back from ``CallPipeline/start(_:)``.
package enum CallReply: Sendable {
    /// The whole answer in the client's format, already settled; `model` answered (a fallback may have).
    case answer(ByteBuffer, model: Model)
    /// A stream the door's response body relays; settled when it ends.
    case stream(CallStream)
}

/// A streamed answer whose upstream has accepted the call, waiting for the response body to relay it. If
/// the body never runs (the client left first), the call's settlement still happens, as "client gone".
package struct CallStream: Sendable {
    let run: CallRun
    package let model: Model
    let upstream: UpstreamStream

    package func relay(into write: FrameWriter) async {
        await run.relay(upstream, model: model, into: write)
    }
}
