import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The one HTTP client all adapters share, with the service's timeouts.
///
/// `requestTimeout` bounds a whole non-streamed call, and the wait for the response head of a
/// stream; a stream's body is bounded by the client's idle read timeout instead, so a long
/// healthy stream is not cut off.
public struct UpstreamClient: Sendable {
    public let httpClient: HTTPClient
    public var requestTimeout: TimeAmount
    /// Largest non-streamed upstream body accepted; bigger means something is wrong.
    public var maxResponseBytes: Int = 32 * 1024 * 1024
    /// Longest line a streamed upstream answer may send (SSE or JSON lines); longer ends the call with an error.
    public var maxLineBytes: Int = ServerSentEventParser.defaultMaxLineBytes

    /// The deadline of the whole call an attempt belongs to (every retry and fallback included), set by the call
    /// pipeline on the copy it hands each attempt: no attempt waits for an answer past it.
    ///
    /// This and ``rateLimitObserver`` are stored on the attempt's copy rather than held in task-locals: a
    /// task-local costs a push per attempt and a thread-local lookup per read, on every call.
    package var callDeadline: ContinuousClock.Instant?

    /// Told what an upstream answer said about its rate limits, so the router learns each deployment's headroom;
    /// set on an attempt's copy by the call pipeline, nil (no header read) elsewhere.
    package var rateLimitObserver: (@Sendable (UpstreamRateLimits) -> Void)?

    /// Vertex AI's access tokens, shared by every copy of this client (adapters hold no state; this cache does).
    public let googleTokens: GoogleAccessTokens

    public init(httpClient: HTTPClient, requestTimeout: TimeAmount = .seconds(600), googleTokens: GoogleAccessTokens = GoogleAccessTokens()) {
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
        self.googleTokens = googleTokens
    }

    /// A client configured for upstream calls: pooled keep-alive connections, a connect timeout,
    /// and an idle read timeout (no byte for that long fails a call, streamed or not).
    public static func makeHTTPClient(
        connectTimeout: TimeAmount = .seconds(10),
        idleReadTimeout: TimeAmount = .seconds(600),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: connectTimeout, read: idleReadTimeout),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64),
            // No `Accept-Encoding`, so providers answer uncompressed: answers are relayed as bytes, and
            // inflating them cost ~4% of a call's instructions for no gain on small JSON answers.
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        return HTTPClient(eventLoopGroup: eventLoopGroup ?? HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Sends a request and returns the whole 2xx body; a non-2xx answer becomes a `ProviderError`.
    ///
    /// `requestTimeout` bounds the wait for the answer to start (AsyncHTTPClient's deadline); the
    /// body is then bounded by the client's idle read timeout. No timer task per call: this is the hot path.
    package func send(_ request: HTTPClientRequest, apiKey: Secret?) async throws -> ByteBuffer {
        let response = try await execute(request, apiKey: apiKey)
        do {
            return try await response.body.collect(upTo: maxResponseBytes)
        } catch {
            throw Self.providerError(for: error, apiKey: apiKey)
        }
    }

    /// Sends a request and returns the 2xx response with its body still unread, for streaming.
    package func open(_ request: HTTPClientRequest, apiKey: Secret?) async throws -> HTTPClientResponse {
        try await execute(request, apiKey: apiKey)
    }

    /// Sends a request within `timeout` and reports only the status and the extracted error, for key checks.
    package func probe(_ request: HTTPClientRequest, apiKey: Secret?, timeout: TimeAmount) async throws -> (status: Int, error: ProviderError?) {
        try await withTimeout(timeout) {
            let response: HTTPClientResponse
            do {
                response = try await self.httpClient.execute(request, deadline: .now() + timeout)
            } catch {
                throw Self.providerError(for: error, apiKey: apiKey)
            }
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return (status, nil) }
            let body = try? await response.body.collect(upTo: 64 * 1024)
            return (status, ProviderError.fromUpstream(status: status, body: body, retryAfter: nil, apiKey: apiKey))
        }
    }

    /// When this attempt stops waiting for an answer: `requestTimeout` from now, or the call's deadline when sooner.
    package func attemptDeadline() throws(ProviderError) -> NIODeadline {
        guard let callDeadline else { return .now() + requestTimeout }
        let left = ContinuousClock.now.duration(to: callDeadline)
        guard left > .zero else { throw .timeout }
        return .now() + min(requestTimeout, .nanoseconds(Saturating.nanoseconds(left)))
    }

    private func execute(_ request: HTTPClientRequest, apiKey: Secret?) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        let deadline = try attemptDeadline()
        do {
            response = try await httpClient.execute(request, deadline: deadline)
        } catch {
            throw Self.providerError(for: error, apiKey: apiKey)
        }
        if let rateLimitObserver, let limits = UpstreamRateLimits(headers: response.headers) {
            rateLimitObserver(limits)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body = try? await response.body.collect(upTo: 256 * 1024)
            throw ProviderError.fromUpstream(
                status: status,
                body: body,
                retryAfter: response.headers.first(name: "retry-after"),
                apiKey: apiKey
            )
        }
        return response
    }

    /// Maps transport errors to `ProviderError`; cancellation stays cancellation.
    package static func providerError(for error: any Error, apiKey: Secret?) -> any Error {
        if error is ProviderError || error is CancellationError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .getConnectionFromPoolTimeout, .writeTimeout:
                return ProviderError.timeout
            case .cancelled:
                return CancellationError()
            case .bodyLengthMismatch:
                return ProviderError.invalidResponse(String(describing: error))
            default:
                break
            }
        }
        if error is NIOTooManyBytesError { return ProviderError.invalidResponse("the upstream answer is too large") }
        if Task.isCancelled { return CancellationError() }
        return ProviderError.unreachable(ProviderError.scrub(String(describing: error), apiKey: apiKey))
    }

    /// Runs `operation`, failing with `ProviderError.timeout` (and cancelling it) after `timeout`.
    package func withTimeout<T: Sendable>(_ timeout: TimeAmount, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(timeout.nanoseconds, 0)))
                throw ProviderError.timeout
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw ProviderError.timeout }
            return result
        }
    }
}

extension HTTPClientRequest {
    /// A JSON POST with the given headers, the shape of every chat call.
    package static func jsonPost(url: String, headers: [(String, String)], body: ByteBuffer) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json, text/event-stream")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(body)
        return request
    }

    /// A GET with the given headers, for key validation.
    package static func get(url: String, headers: [(String, String)]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        return request
    }
}
