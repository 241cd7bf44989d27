import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

@testable import ModelService
@testable import ModelServiceCore

/// What the test server saw of one request.
struct SeenRequest: Sendable {
    var method: String
    var path: String
    var query: String
    var headers: [String: String]
    var body: JSONValue?
}

/// Records requests and events (e.g. a stream writer noticing the client went away).
actor Recorder {
    private(set) var requests: [SeenRequest] = []
    private(set) var events: [String] = []

    func add(_ request: SeenRequest) { requests.append(request) }
    func note(_ event: String) { events.append(event) }
    var last: SeenRequest? { requests.last }
}

/// A small real HTTP server speaking each wire format under a path prefix, behaviour chosen by model name:
/// `rate-limit` (429 + Retry-After: 7), `error-500`, `slow` (1.5 s before the head), `drop` (cuts the stream),
/// `endless` (streams for seconds, recording when the client disconnects); keys starting with `bad` get 401.
enum TestUpstreamServer {
    static func withServer<T: Sendable>(
        requestTimeout: TimeAmount = .seconds(10),
        _ body: @Sendable (_ port: Int, _ recorder: Recorder, _ client: UpstreamClient) async throws -> T
    ) async throws -> T {
        let recorder = Recorder()
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router(recorder),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test-upstream", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let httpClient = UpstreamClient.makeHTTPClient(connectTimeout: .seconds(2))
        let client = UpstreamClient(httpClient: httpClient, requestTimeout: requestTimeout)
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return .failure(ProviderError.unreachable("server did not start")) }
            do {
                return .success(try await body(port, recorder, client))
            } catch {
                return .failure(error)
            }
        }
        try await httpClient.shutdown()
        return try result.get()
    }

    static func router(_ recorder: Recorder) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/openai/v1/chat/completions") { request, _ in
            try await answer(request, recorder: recorder, format: .openAI)
        }
        router.post("/azure/openai/deployments/{deployment}/chat/completions") { request, _ in
            try await answer(request, recorder: recorder, format: .openAI)
        }
        router.post("/anthropic/v1/messages") { request, _ in
            try await answer(request, recorder: recorder, format: .anthropic)
        }
        router.post("/gemini/v1beta/models/*") { request, _ in
            try await answer(request, recorder: recorder, format: .gemini)
        }
        router.post("/ollama/api/chat") { request, _ in
            try await answer(request, recorder: recorder, format: .ollama)
        }
        for path in ["/openai/v1/models", "/anthropic/v1/models", "/gemini/v1beta/models"] {
            router.get(RouterPath(path)) { request, _ in
                let seen = try await record(request, recorder: recorder)
                let key = seen.headers["authorization"] ?? seen.headers["x-api-key"] ?? seen.headers["x-goog-api-key"] ?? ""
                if key.contains("bad") { return errorResponse(.unauthorized, message: "invalid key \(key)") }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"data":[]}"#)))
            }
        }
        return router
    }

    enum Format { case openAI, anthropic, gemini, ollama }

    @discardableResult
    static func record(_ request: Request, recorder: Recorder) async throws -> SeenRequest {
        var request = request
        let bytes = try await request.collectBody(upTo: 1_000_000)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let seen = SeenRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query ?? "",
            headers: headers,
            body: try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))
        )
        await recorder.add(seen)
        return seen
    }

    static func errorResponse(_ status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) -> Response {
        let body = #"{"error":{"message":"\#(message)","type":"test_error","code":"c\#(status.code)"}}"#
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func answer(_ request: Request, recorder: Recorder, format: Format) async throws -> Response {
        let seen = try await record(request, recorder: recorder)
        let model = seen.body?["model"]?.stringValue ?? seen.path
        let key = seen.headers["authorization"] ?? seen.headers["x-api-key"] ?? seen.headers["x-goog-api-key"] ?? seen.headers["api-key"] ?? ""
        if key.contains("bad") { return errorResponse(.unauthorized, message: "Incorrect API key provided: \(key)") }
        if model.contains("rate-limit") {
            let headers: HTTPFields = [.retryAfter: "7"]
            return errorResponse(.tooManyRequests, message: "slow down", headers: headers)
        }
        if model.contains("error-500") { return errorResponse(.internalServerError, message: "boom") }
        if model.contains("slow") { try await Task.sleep(for: .milliseconds(1500)) }
        let streaming = seen.body?["stream"] == .bool(true) || seen.query.contains("alt=sse")
        let frames = streaming ? StreamFixtures.frames(format) : [StreamFixtures.whole(format)]
        let drop = model.contains("drop")
        let endless = model.contains("endless")
        return Response(
            status: .ok,
            headers: [.contentType: streaming ? (format == .ollama ? "application/x-ndjson" : "text/event-stream") : "application/json"],
            body: ResponseBody { writer in
                if endless {
                    do {
                        for index in 0..<200 {
                            try await writer.write(ByteBuffer(string: StreamFixtures.openAIChunk("tick \(index) ")))
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        await recorder.note("finished")
                    } catch {
                        await recorder.note("client went away")
                        throw error
                    }
                    try await writer.finish(nil)
                    return
                }
                for (index, frame) in frames.enumerated() {
                    if drop, index == 2 { throw CancellationError() }
                    try await writer.write(ByteBuffer(string: frame))
                }
                try await writer.finish(nil)
            }
        )
    }
}
