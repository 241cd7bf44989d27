import AsyncHTTPClient
import FakeProviders
import Foundation
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Every call leaves exactly one usage record, however it ends, with its request id, attempts and
/// whether the counts were the provider's or estimated.
@Suite struct SettlementTests {

    static func count(_ components: ServiceComponents) async throws -> Int {
        await components.usage.flush()
        return try await components.database.run {
            try await $0.raw("SELECT COUNT(*) AS n FROM usage_records").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    static func post(port: Int, body: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(TestApp.adminToken)")
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-request-id", value: "req-settle-1")
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    @Test(arguments: TestDatabase.available)
    func aClientThatLeavesMidStreamLeavesOneEstimatedRecord(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let port = try #require(client.port)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let model = GatewayHarness.modelName(.openai, "fake-stream-delay")
            // A long echo (about 60 chunks, 50 ms apart): the client is gone long before the upstream ends.
            let words = (1...60).map { "word\($0)" }.joined(separator: " ")
            let body = #"{"model": "\#(model)", "stream": true, "messages": [{"role": "user", "content": "\#(words)"}]}"#
            let task = Task {
                let response = try await http.execute(Self.post(port: port, body: body), timeout: .seconds(30))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()  // the first chunk, then the client goes
                return response.status.code
            }
            let status = await task.result
            try await http.shutdown()
            #expect(try status.get() == 200)
            #expect(try await eventually(timeout: .seconds(20)) { try await Self.count(components) == 1 } != nil)
            // Whatever else happens to the call afterwards, no second record appears.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.count(components) == 1)
            let row = try #require(try await components.database.run { try await $0.raw("SELECT * FROM usage_records").first() })
            #expect(try row.decode(column: "status", as: Int.self) == 499)
            #expect(try row.decode(column: "error_code", as: String?.self) == "client_disconnected")
            #expect(try row.decode(column: "request_id", as: String?.self) == "req-settle-1")
            #expect(try row.decode(column: "attempts", as: Int.self) == 1)
            #expect(try row.decode(column: "requested_model", as: String?.self) == model)
            #expect(try row.decode(column: "usage_estimated", as: Bool.self))
            #expect(try row.decode(column: "prompt_tokens", as: Int.self) > 0)
        }
    }

    @Test func aClientThatLeavesBeforeTheResponseHeadLeavesOneRecord() async throws {
        try await GatewayHarness.run { client, _, components in
            let port = try #require(client.port)
            let model = GatewayHarness.modelName(.openai, "fake-slow-600")
            let created = try await client.call(.post, "/api/models", json: #"{"name": "\#(model)", "provider": "openai", "modelId": "fake-slow-600"}"#)
            #expect(created.status == .created)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                for (index, stream) in [false, true].enumerated() {
                    // The client gives up long before the upstream (600 ms) starts answering.
                    await #expect(throws: (any Error).self) {
                        _ = try await http.execute(Self.post(port: port, body: GatewayHarness.chatBody(model: model, stream: stream)), timeout: .milliseconds(150))
                    }
                    #expect(try await eventually(timeout: .seconds(20)) { try await Self.count(components) == index + 1 } != nil, "stream=\(stream)")
                    try await Task.sleep(for: .milliseconds(900))
                    #expect(try await Self.count(components) == index + 1, "stream=\(stream)")
                }
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
            let ids = try await components.database.run { try await $0.raw("SELECT request_id FROM usage_records").all() }
                .map { try $0.decode(column: "request_id", as: String?.self) }
            #expect(ids == ["req-settle-1", "req-settle-1"])
        }
    }

    @Test func everyEndingIsSettledOnceWithTheRightStatus() async throws {
        try await GatewayHarness.run { client, _, components in
            let cases: [(String, Bool, Int)] = [
                ("fake-echo", false, 200), ("fake-echo", true, 200), ("fake-error-500", false, 502), ("fake-error-500", true, 502),
                ("fake-rate-limit", false, 429), ("fake-missing", false, 424),
            ]
            for (index, (upstream, stream, _)) in cases.enumerated() {
                _ = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai, upstream), stream: stream))
                #expect(try await eventually(timeout: .seconds(20)) { try await Self.count(components) == index + 1 } != nil, "\(upstream) \(stream)")
            }
            let statuses = try await components.database.run { try await $0.raw("SELECT status FROM usage_records").all() }
                .map { try $0.decode(column: "status", as: Int.self) }
            #expect(statuses.sorted() == cases.map(\.2).sorted())
        }
    }
}
