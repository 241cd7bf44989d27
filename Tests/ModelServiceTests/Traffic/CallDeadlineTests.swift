import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The call's deadline bounds the whole call, every retry and fallback included, and the number of
/// upstream attempts one request can cause is bounded.
@Suite struct CallDeadlineTests {
    /// A model whose ten fallbacks are all slower than the deadline: one attempt fits in it, then a 504.
    @Test(arguments: TestDatabase.available)
    func aDeadlineHoldsAcrossTenSlowFallbacks(database: TestDatabase) async throws {
        let environment = TrafficTest.environment.merging(["UPSTREAM_TIMEOUT_SECONDS": "2"]) { $1 }
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, components in
            var fallbacks: [String] = []
            for index in 1...10 { fallbacks.append(try await TrafficTest.model(client, upstream: "slow-3000-fallback-\(index)")) }
            let model = try await TrafficTest.model(client, upstream: "slow-3000-first", fallbacks: fallbacks)
            await fakes.recorder.reset()
            let started = ContinuousClock.now
            let answer = try await TrafficTest.chat(client, model: model)
            let elapsed = ContinuousClock.now - started
            #expect(answer.status == .gatewayTimeout, "\(answer.body)")
            #expect(answer.body.contains("upstream_timeout"), "\(answer.body)")
            #expect(elapsed < .seconds(3), "answered after \(elapsed)")
            // Each attempt waits the whole 2 s: no second one fits in the call's deadline.
            let upstreamCalls = await fakes.recorder.requests.count
            #expect(upstreamCalls == 1, "\(upstreamCalls) upstream calls")
            let record = try #require(try await TrafficTest.usageRows(components).last)
            #expect(record.status == 504 && record.attempts == upstreamCalls, "\(record)")
        }
    }

    /// Eleven failing candidates with two retries each could make 33 upstream calls; the bound is 10 (default).
    @Test(arguments: TestDatabase.available)
    func upstreamAttemptsPerCallAreBounded(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, fakes, components in
            var fallbacks: [String] = []
            for index in 1...10 { fallbacks.append(try await TrafficTest.model(client, upstream: "error-500-fallback-\(index)")) }
            let model = try await TrafficTest.model(client, upstream: "error-500-first", fallbacks: fallbacks)
            await fakes.recorder.reset()
            let answer = try await TrafficTest.chat(client, model: model)
            #expect(answer.status == .badGateway, "\(answer.body)")
            #expect(await fakes.recorder.requests.count == RetryPolicy().maxAttempts)
            let record = try #require(try await TrafficTest.usageRows(components).last)
            #expect(record.attempts == RetryPolicy().maxAttempts && record.status == 502, "\(record)")
        }
    }

    /// The official SDKs announce their own timeout; a shorter one than the service's ends the call sooner.
    @Test func aClientsShorterTimeoutIsTheCallsDeadline() async throws {
        let environment = TrafficTest.environment.merging(["UPSTREAM_TIMEOUT_SECONDS": "30"]) { $1 }
        try await GatewayHarness.run(extra: environment) { client, fakes, _ in
            let model = try await TrafficTest.model(client, upstream: "slow-4000-timeout")
            let headers: HTTPFields = [.init("X-Stainless-Timeout")!: "1"]
            let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false), headers: headers)
            #expect(answer.status == .gatewayTimeout, "\(answer.body)")
            #expect(await TrafficTest.upstreamCalls(fakes, model: "slow-4000-timeout") == 1)
        }
        #expect(Call.clientTimeout("1e300") == .milliseconds(Int(Int32.max)))
        #expect(Call.clientTimeout("nan") == nil && Call.clientTimeout("-1") == nil && Call.clientTimeout("soon") == nil)
    }
}
