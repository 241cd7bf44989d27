import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP JSON on `/v1/traces` and keeps the spans.
final class OTLPReceiver: Sendable {
    struct Span: Sendable {
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var name: String
        var attributes: [String: String]
    }

    private let spans = Mutex<[Span]>([])

    var received: [Span] { spans.withLock { $0 } }

    /// Runs `body` with the receiver listening; passes its base URL (for `OTEL_EXPORTER_OTLP_ENDPOINT`).
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("/v1/traces") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 16 * 1024 * 1024)
            self.add(Data(buffer.readableBytesView))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    private func add(_ data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        var found: [Span] = []
        for resource in object["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any], let first = value.values.first else { continue }
                        attributes[key] = "\(first)"
                    }
                    found.append(
                        Span(
                            traceId: span["traceId"] as? String ?? "", spanId: span["spanId"] as? String ?? "",
                            parentSpanId: span["parentSpanId"] as? String ?? "", name: span["name"] as? String ?? "", attributes: attributes
                        ))
                }
            }
        }
        spans.withLock { $0.append(contentsOf: found) }
    }
}
