import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `X-Request-Id` on every response, and one user-id rule for every way a user id arrives.
@Suite struct RequestIdAndUserIdTests {
    @Test(arguments: [("abc-123.x:y_z", true), ("", false), ("has space", false), (String(repeating: "a", count: 129), false), ("ünï", false)])
    func incomingIdsAreKeptOnlyWhenSafe(id: String, kept: Bool) {
        #expect(RequestIdMiddleware.isAcceptable(id) == kept)
    }

    @Test func everyResponseCarriesARequestId() async throws {
        try await GatewayHarness.run { client, _, _ in
            let kept = try await client.call(.get, "/v1/models", headers: [.init("X-Request-Id")!: "client-id-1"])
            #expect(kept.headers[.init("X-Request-Id")!] == "client-id-1")
            let replaced = try await client.call(.get, "/v1/models", headers: [.init("X-Request-Id")!: "bad id\u{7}"])
            let generated = try #require(replaced.headers[.init("X-Request-Id")!])
            #expect(generated != "bad id\u{7}" && UUID(uuidString: generated) != nil)
            let unauthorized = try await client.call(.get, "/v1/models", token: nil)
            #expect(unauthorized.status == .unauthorized && unauthorized.headers[.init("X-Request-Id")!] != nil)
            let missing = try await client.call(.get, "/no/such/route")
            #expect(missing.headers[.init("X-Request-Id")!] != nil)
        }
    }

    static let badUserIds = ["", "   ", "tab\there", "new\nline", "@shared", String(repeating: "u", count: 201)]

    @Test func badUserIdsAreRefusedEverywhere() async throws {
        try await GatewayHarness.run { client, _, _ in
          for userId in Self.badUserIds {
            #expect(UserId.problem(with: userId) != nil)
            let model = GatewayHarness.modelName(.openai)
            if !userId.contains("\n") {
                let header = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false), headers: [.init("X-User-Id")!: userId])
                #expect(header.status == .badRequest, "X-User-Id '\(userId)': \(header.body)")
                #expect(header.body.contains("X-User-Id"))
            }
            let escaped = String(decoding: try JSONEncoder().encode(userId), as: UTF8.self)
            let body = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false, extra: #", "user": \#(escaped)"#))
            #expect(body.status == .badRequest, "user '\(userId)': \(body.body)")
            let token = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": \#(escaped)}"#)
            #expect(token.status == .badRequest)
          }
        }
    }

    @Test func aGoodUserIdIsTrimmedAndRecorded() async throws {
        try await GatewayHarness.run { client, _, components in
            let response = try await client.call(
                .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false),
                headers: [.init("X-User-Id")!: "carol"])
            #expect(response.status == .ok)
            await components.usage.flush()
            let row = try #require(try await components.database.run { try await $0.raw("SELECT user_id FROM usage_records").first() })
            #expect(try row.decode(column: "user_id", as: String?.self) == "carol")
        }
    }
}
