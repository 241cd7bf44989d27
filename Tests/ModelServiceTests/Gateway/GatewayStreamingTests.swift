import AsyncHTTPClient
import FakeProviders
import Foundation
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Streaming relays chunks as they arrive and stops when the client leaves.
@Suite struct GatewayStreamingTests {
    static func streamRequest(port: Int, words: Int) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(TestApp.adminToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let text = (1...words).map { "word\($0)" }.joined(separator: " ")
        let body = #"{"model": "\#(GatewayHarness.modelName(.openai, "fake-stream-delay"))", "stream": true, "messages": [{"role": "user", "content": "\#(text)"}]}"#
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    @Test func chunksArriveBeforeTheAnswerIsComplete() async throws {
        try await GatewayHarness.run { client, _, _ in
            let port = try #require(client.port)
            // 20 words 50 ms apart upstream: the first chunk must reach the client long before the last is produced.
            let response = try await HTTPClient.shared.execute(Self.streamRequest(port: port, words: 20), timeout: .seconds(10))
            #expect(response.status == .ok)
            let clock = ContinuousClock()
            let start = clock.now
            var firstAt: Duration?
            var text = ""
            for try await buffer in response.body {
                if firstAt == nil { firstAt = clock.now - start }
                text += String(buffer: buffer)
            }
            let total = clock.now - start
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            let first = try #require(firstAt)
            #expect(first < total / 2, "first chunk after \(first), whole stream \(total)")
        }
    }

    @Test func aClientThatLeavesEndsTheRelayAndIsRecorded() async throws {
        try await GatewayHarness.run { client, _, components in
            let port = try #require(client.port)
            // 200 words 50 ms apart: 10 s of stream if nobody stopped it.
            let response = try await HTTPClient.shared.execute(Self.streamRequest(port: port, words: 200), timeout: .seconds(30))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
            // Leaving the loop and dropping the response closes the connection.
            _ = consume iterator
            _ = consume response
            let recorded = try await eventually(timeout: .seconds(30)) {
                await components.usage.flush()
                let rows = try await components.database.run {
                    try await $0.raw("SELECT error_code FROM usage_records WHERE streamed = \(bind: true)").all()
                }
                return try rows.contains { try $0.decode(column: "error_code", as: String?.self) == "client_disconnected" }
            }
            #expect(recorded != nil, "the gateway kept relaying after the client left")
        }
    }
}
