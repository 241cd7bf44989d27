import HTTPTypes
import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization

/// The steps every fake chat endpoint shares: record, check the key, parse, apply the model's behaviour, answer or stream.
struct FakeChatPipeline: Sendable {
    /// `nil` when recording is off, so benchmarks skip the copy and the actor hop.
    let recorder: FakeRequestRecorder?
    /// Calls seen per model name, for `flaky-N` models.
    let calls = FakeCallCounter()
    static let maxBodySize = 16 << 20

    func chat(_ request: Request, context: FakeRequestContext, dialect: some FakeDialect) async throws -> Response {
        let body = try await receive(request, provider: dialect.provider)
        do {
            try dialect.precheck(request)
            if let refusal = dialect.authenticate(request, body: body) { return refusal }
            try authorize(request, dialect: dialect)
            // A key whose value says `rate-limited` is over its provider quota, whatever the model (key pools are tested with it).
            if dialect.apiKey(in: request)?.contains("rate-limited") == true { throw FakeFailure.rateLimited(retryAfter: "30") }
            guard let json = FakeJSON.parseObject(body) else { throw FakeFailure.badRequest("The request body is not a JSON object.") }
            let chat = try dialect.parseChat(json, request: request, context: context)
            let behavior = FakeBehavior(model: chat.model, hasTools: chat.hasTools)
            // A shutdown of the fake ends a `hang` at once, so stopping it never waits for the sleep.
            if let delay = behavior.delay { try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) } }
            if let failures = behavior.flakyFailures, calls.next(chat.model) <= failures { throw FakeFailure.serverError }
            switch behavior.outcome {
            case .drop where !chat.stream:
                await context.dropConnection()
                return Response(status: .ok)
            case .badRequest: throw FakeFailure.badRequest("Invalid request for model \(chat.model).")
            case .keyRejected: throw FakeFailure.invalidKey(dialect.apiKey(in: request) ?? "")
            case .keyForbidden: throw FakeFailure.forbidden
            case .serverError: throw FakeFailure.serverError
            case .rateLimited: throw FakeFailure.rateLimited(model: chat.model)
            case .modelNotFound: throw FakeFailure.notFound("The model `\(chat.model)` does not exist or you do not have access to it.")
            case .drop, .toolCall, .echo: break
            }
            let reply = FakeReply(provider: dialect.provider, chat: chat, toolCall: behavior.outcome == .toolCall)
            var response: Response
            if chat.stream {
                let chunks = dialect.streamChunks(chat: chat, reply: reply, request: request)
                response = stream(chunks, contentType: dialect.streamContentType(request: request), behavior: behavior, context: context)
            } else {
                response = dialect.completeResponse(chat: chat, reply: reply)
            }
            if let reset = behavior.exhaustedResetSeconds {
                // `exhausted-N`: the answer comes, but says no request is left until N seconds from now.
                response.headers[HTTPField.Name("x-ratelimit-remaining-requests")!] = "0"
                response.headers[HTTPField.Name("x-ratelimit-reset-requests")!] = "\(reset)s"
            }
            return response
        } catch let failure as FakeFailure {
            return failureResponse(failure, dialect: dialect)
        }
    }

    /// Handles a request that only needs a key (model lists): records it, then answers with `answer()`.
    func authorized(
        _ request: Request,
        dialect: some FakeDialect,
        answer: () -> Response
    ) async throws -> Response {
        let body = try await receive(request, provider: dialect.provider)
        if let refusal = dialect.authenticate(request, body: body) { return refusal }
        do {
            try authorize(request, dialect: dialect)
            return answer()
        } catch {
            return failureResponse(error, dialect: dialect)
        }
    }

    /// A JSON endpoint other than chat (embeddings, responses): recorded, key checked, body parsed, then `answer`.
    func json(
        _ request: Request,
        dialect: some FakeDialect,
        answer: ([String: Any]) async throws -> Response
    ) async throws -> Response {
        let body = try await receive(request, provider: dialect.provider)
        do {
            try dialect.precheck(request)
            if let refusal = dialect.authenticate(request, body: body) { return refusal }
            try authorize(request, dialect: dialect)
            // A key whose value says `rate-limited` is over its provider quota, whatever the model (key pools are tested with it).
            if dialect.apiKey(in: request)?.contains("rate-limited") == true { throw FakeFailure.rateLimited(retryAfter: "30") }
            guard let json = FakeJSON.parseObject(body) else { throw FakeFailure.badRequest("The request body is not a JSON object.") }
            return try await answer(json)
        } catch let failure as FakeFailure {
            return failureResponse(failure, dialect: dialect)
        }
    }

    func failureResponse(_ failure: FakeFailure, dialect: some FakeDialect) -> Response {
        var response = dialect.errorResponse(failure)
        if case .rateLimited(let retryAfter) = failure { response.headers[.retryAfter] = retryAfter }
        return response
    }

    private func authorize(_ request: Request, dialect: some FakeDialect) throws(FakeFailure) {
        guard let key = dialect.apiKey(in: request), !key.isEmpty else {
            if dialect.requiresKey { throw .missingKey }
            return
        }
        if key.hasPrefix("bad") { throw .invalidKey(key) }
    }

    /// Collects the body and, when recording, keeps a copy of the request.
    private func receive(_ request: Request, provider: FakeProvider) async throws -> ByteBuffer {
        let body = try await request.body.collect(upTo: Self.maxBodySize)
        guard let recorder else { return body }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name] {
                headers[name] = existing + ", " + field.value
            } else {
                headers[name] = field.value
            }
        }
        let recorded = RecordedRequest(
            provider: provider.rawValue,
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query ?? "",
            headers: headers,
            body: Data(body.readableBytesView)
        )
        await recorder.record(recorded)
        return body
    }

    /// Writes pre-encoded chunks, spaced by `stream-delay`, cutting the connection after the first for `drop`.
    private func stream(_ chunks: [ByteBuffer], contentType: String, behavior: FakeBehavior, context: FakeRequestContext) -> Response {
        let dropConnection = context.dropConnection
        let body = ResponseBody { writer in
            for (index, chunk) in chunks.enumerated() {
                if index > 0, let delay = behavior.chunkDelay { try await Task.sleep(for: delay) }
                try await writer.write(chunk)
                if behavior.outcome == .drop {
                    // Let the first chunk reach the socket before the connection goes.
                    try await Task.sleep(for: .milliseconds(20))
                    await dropConnection()
                    throw CancellationError()
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .cacheControl: "no-cache"],
            body: body
        )
    }
}

/// Counts calls per model name (bounded: a fake serves a handful of names per test).
final class FakeCallCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// The number of this call for `model`, starting at 1.
    func next(_ model: String) -> Int {
        counts.withLock { counts in
            if counts.count > 10_000 { counts.removeAll() }
            counts[model, default: 0] += 1
            return counts[model]!
        }
    }
}
