import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The fake upstream server: every provider's wire format on one port, chosen by path prefix.
public enum FakeProviderServer {
    /// Warnings only, so test output is not flooded with a "listening" line per test server.
    public static var quietLogger: Logger {
        var logger = Logger(label: "fake-providers")
        logger.logLevel = .warning
        return logger
    }

    /// The router with every provider's routes; `recorder` is `nil` to skip recording; `vertex` issues and checks Vertex AI tokens.
    public static func buildRouter(recorder: FakeRequestRecorder?, vertex: FakeVertexAuthority = FakeVertexAuthority()) -> Router<FakeRequestContext> {
        let router = Router(context: FakeRequestContext.self)
        let pipeline = FakeChatPipeline(recorder: recorder)
        OpenAIFakeRoutes.add(to: router, pipeline: pipeline)
        AnthropicFakeRoutes.add(to: router, pipeline: pipeline)
        GeminiFakeRoutes.add(to: router, pipeline: pipeline)
        OllamaFakeRoutes.add(to: router, pipeline: pipeline)
        BedrockFakeRoutes.add(to: router, pipeline: pipeline)
        FakeEmbeddingRoutes.add(to: router, pipeline: pipeline)
        FakeResponsesRoutes.add(to: router, pipeline: pipeline)
        VertexFakeRoutes.add(to: router, pipeline: pipeline, authority: vertex)
        return router
    }

    /// The application, for tests that drive it with HummingbirdTesting or callers that run it in their own service group.
    public static func buildApplication(
        host: String = "127.0.0.1",
        port: Int = 0,
        recorder: FakeRequestRecorder?,
        vertex: FakeVertexAuthority = FakeVertexAuthority(),
        logger: Logger,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: buildRouter(recorder: recorder, vertex: vertex),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// Starts the server in the background and returns once it listens; port 0 picks a free port.
    ///
    /// - Parameter record: keep received requests in `recorder` (the last 1,000); turn off for benchmarks.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        record: Bool = true,
        logger: Logger = FakeProviderServer.quietLogger
    ) async throws -> RunningFakeProviders {
        let recorder = FakeRequestRecorder()
        let vertex = FakeVertexAuthority()
        let (ports, portContinuation) = AsyncThrowingStream.makeStream(of: Int.self)
        let app = buildApplication(host: host, port: port, recorder: record ? recorder : nil, vertex: vertex, logger: logger) { port in
            portContinuation.yield(port)
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        // The handle owns this task: `stop()` shuts the group down gracefully and awaits it.
        let task = Task {
            do {
                try await group.run()
                portContinuation.finish()
            } catch {
                portContinuation.finish(throwing: error)
            }
        }
        var iterator = ports.makeAsyncIterator()
        do {
            guard let bound = try await iterator.next() else { throw FakeProviderServerError.stoppedBeforeListening }
            return RunningFakeProviders(host: host, port: bound, recorder: recorder, vertex: vertex, group: group, task: task)
        } catch {
            await group.triggerGracefulShutdown()
            _ = await task.result
            throw error
        }
    }

    /// Serves until SIGINT or SIGTERM, for the `model-service fake-providers --port N` command; prints the base URLs once.
    public static func run(host: String = "127.0.0.1", port: Int = 0, record: Bool = false, logger: Logger = FakeProviderServer.quietLogger) async throws {
        let app = buildApplication(host: host, port: port, recorder: record ? FakeRequestRecorder() : nil, logger: logger) { bound in
            let urls = RunningFakeProviders.baseURLs(host: host, port: bound)
            let line = urls.keys.sorted().map { "\($0)=\(urls[$0] ?? "")" }.joined(separator: " ")
            // Written unbuffered so a parent process reading a pipe sees the URLs at once.
            FileHandle.standardOutput.write(Data("fake-providers listening on \(host):\(bound) \(line)\n".utf8))
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// Why `start` failed when the server ended without an error of its own.
public enum FakeProviderServerError: Error, Sendable {
    case stoppedBeforeListening
}
