import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import ModelService

/// A model's rate limits apply per caller, answer 429 with Retry-After, and reopen with the window.
@Suite struct TrafficControlTests {
    @Test func theModelsPerMinuteLimitIsEnforcedPerCaller() async throws {
        try await GatewayHarness.run { client, _, _ in
            let model = GatewayHarness.modelName(.openai)
            _ = try await client.call(.patch, "/api/models/\(model)", json: #"{"rateLimitPerMinute": 2}"#)
            let body = GatewayHarness.chatBody(model: model, stream: false)
            let alice: HTTPFields = [.init("X-User-Id")!: "alice"]
            #expect(try await client.call(.post, "/v1/chat/completions", json: body, headers: alice).status == .ok)
            #expect(try await client.call(.post, "/v1/chat/completions", json: body, headers: alice).status == .ok)
            let refused = try await client.call(.post, "/v1/chat/completions", json: body, headers: alice)
            #expect(refused.status == .tooManyRequests)
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try decodeJSON(ErrorBody.self, refused.body).error.code == "rate_limit_exceeded")
            // Another user has a window of its own.
            #expect(try await client.call(.post, "/v1/chat/completions", json: body, headers: [.init("X-User-Id")!: "bob"]).status == .ok)
        }
    }

    @Test func windowsReopenAndARefusalCountsAgainstNoWindow() throws {
        let clock = Mutex<Int64>(0)
        let traffic = TrafficControl(now: { clock.withLock { $0 } })
        let model = try Self.model(perMinute: 1, perHour: 2)
        try traffic.admit(model: model, caller: "u")
        #expect(throws: APIError.self) { try traffic.admit(model: model, caller: "u") }
        clock.withLock { $0 = 61_000 }
        try traffic.admit(model: model, caller: "u")  // minute window reopened; hour count is now 2
        clock.withLock { $0 = 122_000 }
        #expect(throws: APIError.self) { try traffic.admit(model: model, caller: "u") }  // hour limit
    }

    static func model(perMinute: Int?, perHour: Int?) throws -> Model {
        let json = """
            {"id": "m1", "name": "m", "provider": "openai", "modelId": "x", "supportsStreaming": true,
             "rateLimitPerMinute": \(perMinute.map(String.init) ?? "null"), "rateLimitPerHour": \(perHour.map(String.init) ?? "null"),
             "inputCostPer1kTokens": 0, "outputCostPer1kTokens": 0, "providerSettings": {}, "isActive": true, "isDefault": false,
             "metadata": {}, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}
            """
        return try JSONDecoder().decode(Model.self, from: Data(json.utf8))
    }
}
