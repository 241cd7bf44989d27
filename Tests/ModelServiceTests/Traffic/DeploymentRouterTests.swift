import Foundation
import Synchronization
import Testing
@testable import ModelServiceCore

/// The router alone, on a clock the test moves: own per-minute limits, the provider's word on its limits, and
/// how rate-limit headers are read.
@Suite struct DeploymentRouterTests {
    static func model(_ deployments: [Deployment], strategy: Routing.Strategy = .weighted) throws -> Model {
        let json = #"{"id": "m1", "name": "m", "provider": "openai", "modelId": "x", "supportsStreaming": true, "providerSettings": {}, "isActive": true, "isDefault": false, "metadata": {}, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}"#
        var model = try JSONDecoder().decode(Model.self, from: Data(json.utf8))
        model.deployments = deployments
        model.routing = Routing(strategy: strategy, promptCacheAffinity: false)
        return model
    }

    @Test func aDeploymentAtItsOwnPerMinuteLimitIsChosenOnlyWhenNoOtherHasRoom() throws {
        let clock = Atomic<Int64>(600_000)
        let router = DeploymentRouter(now: { clock.load(ordering: .relaxed) })
        var limited = Deployment(id: "limited", weight: 1_000)
        limited.rateLimitPerMinute = 3
        let model = try Self.model([limited, Deployment(id: "other")])
        for _ in 0..<3 { router.began("limited") }
        for _ in 0..<50 { #expect(router.order(model, conversation: nil).map { $0.deployment?.id } == ["other", "limited"]) }
        // The next minute, its quota is back (and its weight makes it the usual first choice).
        clock.store(660_000, ordering: .relaxed)
        #expect((0..<50).contains { _ in router.order(model, conversation: nil).first?.deployment?.id == "limited" })
    }

    @Test func theProvidersWordOnItsLimitsTakesADeploymentOutUntilTheReset() throws {
        let clock = Atomic<Int64>(1_000_000)
        let router = DeploymentRouter(now: { clock.load(ordering: .relaxed) })
        let model = try Self.model([Deployment(id: "a"), Deployment(id: "b")], strategy: .headroom)
        var limits = try #require(UpstreamRateLimits(header: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"].get))
        #expect(limits.exhaustedForMillis == 360_000)
        router.observed("a", limits)
        for _ in 0..<30 { #expect(router.order(model, conversation: nil).first?.deployment?.id == "b") }
        // Headroom prefers the deployment with more requests left.
        limits = try #require(UpstreamRateLimits(header: ["x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "1s"].get))
        clock.store(1_400_000, ordering: .relaxed)
        router.observed("b", limits)
        var other = try #require(UpstreamRateLimits(header: ["anthropic-ratelimit-requests-remaining": "900"].get))
        other.requestsResetMillis = 60_000
        router.observed("a", other)
        for _ in 0..<30 { #expect(router.order(model, conversation: nil).first?.deployment?.id == "a") }
    }

    /// A deployments column edited by hand: numbers out of range are bounded when read, so choosing never overflows.
    @Test func deploymentsReadFromTheDatabaseAreBounded() throws {
        let text = #"[{"id":"a","weight":9223372036854775807,"rateLimitPerMinute":-9223372036854775808},{"id":"b","weight":9223372036854775807}]"#
        let list = Deployment.decodeList(text, modelId: "m1")
        #expect(list.map(\.weight) == [Deployment.maxWeight, Deployment.maxWeight] && list[0].rateLimitPerMinute == 1)
        let router = DeploymentRouter()
        let model = try Self.model(list)
        router.began("a")
        for _ in 0..<20 { #expect(router.order(model, conversation: nil).count == 2) }
        #expect(Deployment.decodeList("not json", modelId: "m1").map(\.id) == ["dep_m1"])
    }

    @Test func rateLimitHeadersAreReadBoundedAndOtherwiseIgnored() throws {
        #expect(UpstreamRateLimits.duration("1s") == 1_000)
        #expect(UpstreamRateLimits.duration("6m0s") == 360_000)
        #expect(UpstreamRateLimits.duration("2m3.5s") == 123_500)
        #expect(UpstreamRateLimits.duration("1h2m3.5s") == UpstreamRateLimits.maxWaitMillis)
        #expect(UpstreamRateLimits.duration("20ms") == 20)
        #expect(UpstreamRateLimits.duration("99999999h") == UpstreamRateLimits.maxWaitMillis)
        #expect(UpstreamRateLimits.duration("soon") == nil)
        #expect(UpstreamRateLimits(header: { _ in nil }) == nil)
        #expect(UpstreamRateLimits(header: ["x-ratelimit-remaining-requests": "-4"].get) == nil)
        let retry = try #require(UpstreamRateLimits(header: ["retry-after": "1e300"].get))
        #expect(retry.exhaustedForMillis == UpstreamRateLimits.maxWaitMillis)
        let instant = Date(timeIntervalSince1970: 1_000)
        let anthropic = try #require(
            UpstreamRateLimits(header: ["anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": "1970-01-01T00:16:50Z"].get, now: instant))
        #expect(anthropic.exhaustedForMillis == 10_000)
    }
}

extension Dictionary where Key == String, Value == String {
    /// A header lookup over a literal.
    fileprivate func get(_ name: String) -> String? { self[name] }
}
