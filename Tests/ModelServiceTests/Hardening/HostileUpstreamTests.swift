import Foundation
import Hummingbird
import Logging
import NIOCore
import SQLKit
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// An upstream that sends one line that never ends is cut at `MAX_UPSTREAM_LINE_BYTES`: the client
/// gets an error event, the call is recorded, and the gateway stops reading long before the upstream stops sending.
@Suite struct HostileUpstreamTests {
    /// The limit guards against a hang only: far above the seconds the test takes, even on a loaded machine.
    @Test(.timeLimit(.minutes(10)))
    func anEndlessUpstreamLineIsCutAndTheCallSettled() async throws {
        let sent = SentBytes()
        try await Self.withEndlessUpstream(sent) { port in
            let extra = [
                "OPENAI_BASE_URL": "http://127.0.0.1:\(port)/v1", "MAX_UPSTREAM_LINE_BYTES": "\(1024 * 1024)",
                "MAX_UPSTREAM_RESPONSE_BYTES": "\(1024 * 1024)", "UPSTREAM_TIMEOUT_SECONDS": "20",
            ]
            try await GatewayHarness.run(extra: extra) { client, _, components in
                let model = GatewayHarness.modelName(.openai)
                let streamed = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true))
                #expect(streamed.status == .ok)
                let (events, done) = GatewayHarness.events(streamed.body)
                let error = try #require(events.last?["error"] as? [String: Any])
                #expect((error["message"] as? String)?.contains("MAX_UPSTREAM_LINE_BYTES") == true)
                #expect(done)
                // The gateway stopped reading: the upstream could not push much past the limit.
                let stopped = try await eventually(timeout: .seconds(20)) { sent.stopped }
                #expect(stopped != nil && sent.bytes < 256 * 1024 * 1024, "sent \(sent.bytes) bytes")

                // A non-streamed answer is bounded the same way.
                let plain = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false))
                #expect(plain.status == .badGateway)

                await components.usage.flush()
                let rows = try await components.database.run {
                    try await $0.raw("SELECT status, streamed, error_code FROM usage_records ORDER BY at").all()
                }
                #expect(rows.count == 2)
                #expect(try rows.allSatisfy { try $0.decode(column: "error_code", as: String?.self) != nil })
            }
        }
    }

    /// A server whose chat answer is `data: {"choices":[{"delta":{"content":"` followed by `x` without end.
    static func withEndlessUpstream(_ sent: SentBytes, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/v1/chat/completions") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                do {
                    try await writer.write(ByteBuffer(string: #"data: {"choices":[{"delta":{"content":""#))
                    for _ in 0..<(16 * 1024) {  // 1 GiB, far past what the gateway may read
                        try await writer.write(chunk)
                        sent.add(chunk.readableBytes)
                    }
                    try await writer.finish(nil)
                } catch {
                    sent.stop()
                    throw error
                }
                sent.stop()
            })
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "endless-upstream", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try? await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestFailure("the endless upstream did not start") }
            try await body(port)
        }
    }
}

/// Bytes the endless upstream managed to send, and whether it has stopped (client gone).
final class SentBytes: Sendable {
    private let state = Mutex((bytes: 0, stopped: false))
    var bytes: Int { state.withLock { $0.bytes } }
    var stopped: Bool { state.withLock { $0.stopped } }
    func add(_ count: Int) { state.withLock { $0.bytes += count } }
    func stop() { state.withLock { $0.stopped = true } }
}
