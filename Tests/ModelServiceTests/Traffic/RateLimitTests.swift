import FakeProviders
import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Request and token limits per model and caller: 429 with Retry-After, windows that reopen, bounded memory.
@Suite struct RateLimitTests {
    @Test(arguments: TestDatabase.available)
    func theModelsPerMinuteLimitIsEnforcedPerCaller(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, _ in
            let model = GatewayHarness.modelName(.openai)
            _ = try await client.call(.patch, "/api/models/\(model)", json: #"{"rateLimitPerMinute": 2}"#)
            let body = GatewayHarness.chatBody(model: model, stream: false)
            try await MultiInstanceTrafficTests.awayFromAMinuteBoundary()
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

    /// The fake answers 5 prompt + 5 completion tokens: 10 per call against a limit of 25 tokens a day
    /// (a day window, so a slow machine never sees the window turn during the test).
    @Test(arguments: TestDatabase.available)
    func tokenLimitsRefuseOnceTheWindowsTokensAreUsed(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, components in
            let model = GatewayHarness.modelName(.anthropic)
            let patched = try await client.call(.patch, "/api/models/\(model)", json: #"{"tokenLimitPerMinute": 1000, "tokenLimitPerDay": 25}"#)
            #expect(patched.status == .ok && patched.body.contains(#""tokenLimitPerDay":25"#))
            let body = GatewayHarness.chatBody(model: model, stream: false)
            let carol: HTTPFields = [.init("X-User-Id")!: "carol"]
            for _ in 0..<3 {
                #expect(try await client.call(.post, "/v1/chat/completions", json: body, headers: carol).status == .ok)
            }
            let refused = try await client.call(.post, "/v1/chat/completions", json: body, headers: carol)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.body.contains("tokens per day"))
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try await client.call(.post, "/v1/chat/completions", json: body, headers: [.init("X-User-Id")!: "dave"]).status == .ok)
            _ = components
        }
    }

    @Test func windowsReopenAndARefusalCountsAgainstNoWindow() throws {
        let counters = MemoryRateCounters(capacity: 100)
        let windows = [
            RateWindow(model: "m1", caller: "u", unit: .requests, spanMillis: 60_000, limit: 1),
            RateWindow(model: "m1", caller: "u", unit: .requests, spanMillis: 3_600_000, limit: 2),
        ]
        #expect(counters.admit(windows, at: 0) == nil)
        #expect(counters.admit(windows, at: 1_000)?.window.spanMillis == 60_000)
        #expect(counters.admit(windows, at: 61_000) == nil)  // minute window reopened; the hour holds 2
        #expect(counters.admit(windows, at: 122_000)?.window.spanMillis == 3_600_000)
    }

    /// Callers a service token invents never grow the counters past their cap.
    @Test func counterMemoryIsBounded() {
        let counters = MemoryRateCounters(capacity: 100)
        for index in 0..<5_000 {
            _ = counters.admit([RateWindow(model: "m", caller: "caller-\(index)", unit: .requests, spanMillis: 60_000, limit: 5)], at: 1_000)
        }
        #expect(counters.count <= 100)
    }

    @Test func limitsWhenTheDatabaseIsDownIsConfiguredAndShownByHealth() async throws {
        #expect(throws: ConfigurationError.self) { try TrafficSettings(environment: ["LIMITS_WHEN_DB_DOWN": "maybe"]) }
        #expect(try TrafficSettings(environment: ["LIMITS_WHEN_DB_DOWN": "closed"]).limitsWhenDatabaseDown == .closed)
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: ["LIMITS_WHEN_DB_DOWN": "closed"]) { client, _ in
            let health = try await client.call(.get, "/api/health", token: nil)
            #expect(health.body.contains(#""limits":{"instances":1,"mode":"memory","whenDatabaseDown":"closed"}"#))
        }
    }
}
