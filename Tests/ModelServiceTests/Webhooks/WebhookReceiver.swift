import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore

@testable import ModelServiceCore

/// A local webhook receiver on 127.0.0.1 (a real Hummingbird server on a free port): records every POST to
/// `/hook` and answers 500 to the first `failures` of them, 200 afterwards.
actor WebhookReceiver {
    struct Seen: Sendable {
        var headers: [String: String]
        var body: String

        var event: String? { headers["x-model-service-event"] }
        var delivery: String? { headers["x-model-service-delivery"] }

        /// The recipe the README gives a receiver: HMAC-SHA256(secret, "<timestamp>.<body>") in hex.
        func signatureVerifies(secret: String) -> Bool {
            guard let timestamp = headers["x-model-service-timestamp"], let sent = headers["x-model-service-signature"] else { return false }
            let code = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
            return sent == "sha256=" + code.map { String(format: "%02x", $0) }.joined()
        }

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
    }

    private(set) var seen: [Seen] = []
    private var failures: Int

    init(failures: Int) {
        self.failures = failures
    }

    /// Records a request; the status to answer.
    func receive(_ request: Seen) -> HTTPResponse.Status {
        seen.append(request)
        if failures > 0 {
            failures -= 1
            return .internalServerError
        }
        return .ok
    }

    func events(_ name: String) -> [Seen] { seen.filter { $0.event == name } }

    /// Runs `body` with the receiver listening; its URL is `http://127.0.0.1:<port>/hook`.
    static func with<T: Sendable>(failures: Int = 0, _ body: @Sendable (_ url: String, _ receiver: WebhookReceiver) async throws -> T) async throws -> T {
        let receiver = WebhookReceiver(failures: failures)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1_000_000)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let status = await receiver.receive(Seen(headers: headers, body: String(buffer: bytes)))
            return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: status == .ok ? "ok" : "failed")))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test-webhook-receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return .failure(TestFailure("the webhook receiver did not start")) }
            do {
                return .success(try await body("http://127.0.0.1:\(port)/hook", receiver))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
