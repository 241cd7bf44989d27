import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The HTTP server metrics on a registry of the test's own (the process-wide one is shared by every
/// test running at once): one-buffer answers, streams and thrown errors are each counted and timed
/// once, a stream when its last byte is written, and nothing stays active.
@Suite struct HTTPMetricsMiddlewareTests {
    @Test func answersStreamsAndErrorsAreCountedAndTimedOnce() async throws {
        let registry = PrometheusCollectorRegistry()
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(factory: PrometheusMetricsFactory(registry: registry)))
        router.get("one-buffer") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
        router.get("stream") { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                for chunk in ["a", "b", "c"] {
                    try await Task.sleep(for: .milliseconds(40))
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            })
        }
        router.get("refused") { _, _ -> Response in throw HTTPError(.badRequest) }

        try await Application(router: router).test(.live) { client in
            for _ in 0..<2 {
                let answer = try await client.execute(uri: "/one-buffer", method: .get)
                #expect(answer.status == .ok && String(buffer: answer.body) == #"{"ok":true}"#)
            }
            let streamed = try await client.execute(uri: "/stream", method: .get)
            #expect(String(buffer: streamed.body) == "abc")
            #expect(try await client.execute(uri: "/refused", method: .get).status == .badRequest)
        }

        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        func series(_ route: String, _ status: String) -> [String: String] {
            ["http_route": route, "http_request_method": "GET", "http_response_status_code": status]
        }
        #expect(MetricsTests.value(text, "hb_requests", series("/one-buffer", "200")) == 2)
        #expect(MetricsTests.value(text, "http_server_request_duration_count", series("/one-buffer", "200")) == 2)
        #expect(MetricsTests.value(text, "hb_requests", series("/stream", "200")) == 1)
        // Timed to the stream's last byte: three 40 ms pauses.
        let streamSeconds = try #require(MetricsTests.value(text, "http_server_request_duration_sum", series("/stream", "200")))
        #expect(streamSeconds >= 0.12, "\(streamSeconds)")
        #expect(MetricsTests.value(text, "hb_requests", series("/refused", "400")) == 1)
        #expect(MetricsTests.value(text, "hb_request_errors", ["http_route": "/refused", "error_type": "400"]) == 1)
        #expect(MetricsTests.value(text, "http_server_active_requests", ["http_request_method": "GET"]) == 0)
    }
}
