import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Several deployments of one model, chosen call by call: weighted, least-busy, latency, headroom; retries on
/// another deployment before fallbacks; the answer and the usage record name the deployment.
@Suite struct DeploymentRoutingTests {
    /// 3,000 calls put each share within 5 points with more than 6 standard deviations to spare (the 70 % share's is
    /// 0.84 points). The calls and `/metrics` after them go out on the shared client, which sends again on a pooled
    /// connection found closed.
    @Test func weightedSharesFollowTheWeightsOver3000Calls() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment.merging(["HTTP_IDLE_TIMEOUT_SECONDS": "600"]) { _, new in new }) {
            client, _, components in
            let model = try await DeploymentTest.model(
                client, name: "routing/weighted", upstreams: ["fake-echo-a", "fake-echo-b", "fake-echo-c"], weights: [1, 2, 7])
            let shares = try await DeploymentTest.shares(client, model: model.name, count: 3_000)
            #expect(shares.values.reduce(0, +) == 3_000)
            for (id, weight) in zip(model.deployments, [10.0, 20.0, 70.0]) {
                let percent = Double(shares[id] ?? 0) / 30
                #expect(abs(percent - weight) <= 5, "deployment \(id): \(percent)% of calls for a \(weight)% weight: \(shares)")
            }
            // The usage records name the deployment that answered.
            await components.usage.flush()
            let recorded = try await components.database.run { sql in
                try await sql.raw("SELECT deployment_id, COUNT(*) AS n FROM usage_records WHERE model = 'routing/weighted' GROUP BY deployment_id").all()
                    .map { (try $0.decode(column: "deployment_id", as: String.self), try $0.decode(column: "n", as: Int.self)) }
            }
            #expect(Dictionary(uniqueKeysWithValues: recorded) == shares)
            // /metrics: attempts, time to first byte and calls in flight per deployment.
            let metrics = try await DeploymentTest.metrics(port: try #require(client.port))
            for id in model.deployments {
                let labels = #"model="routing/weighted",deployment="\#(id)""#
                #expect(metrics.contains(#"model_service_deployment_attempts_total{\#(labels),outcome="answered"} \#(shares[id] ?? 0)"#), "\(metrics)")
                #expect(metrics.contains(#"model_service_deployment_time_to_first_byte_seconds_count{\#(labels)} \#(shares[id] ?? 0)"#))
                #expect(metrics.contains(#"model_service_deployment_in_flight{\#(labels)} 0"#))
            }
        }
    }

    /// The slow deployment holds its calls for 400 ms; the other two answer at once, so new calls go to them.
    @Test func leastBusySendsNewCallsAwayFromASlowDeployment() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, _ in
            let model = try await DeploymentTest.model(
                client, name: "routing/least-busy", upstreams: ["fake-slow-400", "fake-echo-b", "fake-echo-c"], strategy: "least-busy")
            let shares = try await DeploymentTest.shares(client, model: model.name, count: 90, concurrency: 6)
            let slow = shares[model.deployments[0]] ?? 0
            // Weighted alone would give it a third (30); least-busy gives it about one call per 400 ms it is busy.
            #expect(slow < 15, "\(shares)")
            #expect((shares[model.deployments[1]] ?? 0) > 30 && (shares[model.deployments[2]] ?? 0) > 30, "\(shares)")
        }
    }

    @Test func latencyPrefersTheFastestAndStillSamplesTheOthers() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, components in
            let model = try await DeploymentTest.model(
                client, name: "routing/latency", upstreams: ["fake-slow-150", "fake-slow-60", "fake-echo-c"], strategy: "latency")
            var shares: [String: Int] = [:]
            for _ in 0..<120 { shares[try await DeploymentTest.chat(client, model: model.name).deployment ?? "none", default: 0] += 1 }
            let fastest = shares[model.deployments[2]] ?? 0
            #expect(fastest > 90, "\(shares)")
            // Exploration: the slower two are still tried now and then.
            #expect((shares[model.deployments[0]] ?? 0) + (shares[model.deployments[1]] ?? 0) >= 3, "\(shares)")

            // The slowest recovers (its upstream now answers at once): sampling notices, and its average falls.
            let registryModel = try #require(components.registry.model(named: model.name))
            let patched = try await client.call(
                .patch, "/api/models/\(registryModel.id)/deployments/\(model.deployments[0])", json: #"{"modelId": "fake-echo-a"}"#)
            #expect(patched.status == .ok, "\(patched.body)")
            var recovered = 0
            for _ in 0..<250 where try await DeploymentTest.chat(client, model: model.name).deployment == model.deployments[0] { recovered += 1 }
            #expect(recovered >= 3)
            let latency = try #require(components.traffic.router.status(model.deployments[0])?.latencyMs)
            #expect(latency < 100, "moving average \(latency) ms after \(recovered) fast answers")
        }
    }

    /// `fake-exhausted-4` answers, but says `x-ratelimit-remaining-requests: 0` for the next 4 seconds.
    @Test func headroomSkipsADeploymentItsProviderSaysIsExhaustedUntilTheReset() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, _ in
            let model = try await DeploymentTest.model(
                client, name: "routing/headroom", upstreams: ["fake-exhausted-4", "fake-echo-b", "fake-echo-c"], strategy: "headroom")
            let exhausted = model.deployments[0]
            var reached = false
            for _ in 0..<60 where !reached { reached = try await DeploymentTest.chat(client, model: model.name).deployment == exhausted }
            #expect(reached)
            // Only calls well inside the reset window count: a loaded machine may make few of them.
            let saidExhausted = ContinuousClock.now
            // Health shows it at once (checked first: on a loaded machine the calls below may use up the window).
            let health = try await client.call(.get, "/api/providers/health")
            #expect(health.body.contains(exhausted) && health.body.contains("exhaustedUntil"), "\(health.body)")
            var during = 0
            var calls = 0
            while calls < 30, ContinuousClock.now - saidExhausted < .seconds(3) {
                calls += 1
                if try await DeploymentTest.chat(client, model: model.name).deployment == exhausted { during += 1 }
            }
            #expect(calls >= 3 && during == 0, "\(during) of \(calls) calls went to the exhausted deployment")
            try await Task.sleep(until: saidExhausted + .milliseconds(4_300))
            var after = 0
            for _ in 0..<40 where try await DeploymentTest.chat(client, model: model.name).deployment == exhausted { after += 1 }
            #expect(after >= 1)
        }
    }

    /// The first deployment answers 500: the call moves to the model's second deployment, never to the fallback model.
    @Test(arguments: TestDatabase.available)
    func aRetryLandsOnAnotherDeploymentBeforeAnyFallback(database: TestDatabase) async throws {
        var environment = TrafficTest.environment
        environment["CIRCUIT_FAILURES"] = "100"
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, _ in
            let fallback = try await TrafficTest.model(client, upstream: "fake-echo-fallback")
            let model = try await DeploymentTest.model(
                client, name: "routing/retry", upstreams: ["fake-error-500", "fake-echo-second"], weights: [1_000, 1], fallbacks: [fallback])
            for _ in 0..<10 {
                let answer = try await DeploymentTest.chat(client, model: model.name)
                #expect(answer.status == .ok && answer.model == model.name && answer.deployment == model.deployments[1], "\(answer.body)")
            }
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-error-500") >= 8)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-echo-fallback") == 0)
        }
    }

    /// A deployment drawing on the shared key pool: the key that answered 429 rests, the other serves.
    @Test(arguments: TestDatabase.available)
    func aKeyPoolMovesOffAKeyThatAnswered429(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, fakes, components in
            let limited = try await VaultAPI.store(client, userId: nil, name: "limited", key: "sk-pool-rate-limited-0123456789")
            let good = try await VaultAPI.store(client, userId: nil, name: "good", key: "sk-pool-good-0123456789abc")
            let model = try await DeploymentTest.model(client, name: "routing/pool", upstreams: ["fake-echo"])
            let registryModel = try #require(components.registry.model(named: model.name))
            let pooled = try await client.call(.patch, "/api/models/\(registryModel.id)/deployments/\(model.deployments[0])", json: #"{"keyPool": "shared"}"#)
            #expect(pooled.status == .ok && pooled.body.contains(#""keyPool":"shared""#), "\(pooled.body)")
            for _ in 0..<12 {
                let answer = try await DeploymentTest.chat(client, model: model.name)
                #expect(answer.status == .ok, "\(answer.body)")
            }
            let keys = await fakes.recorder.requests.compactMap { $0.headers["authorization"] }
            #expect(keys.filter { $0.contains("rate-limited") }.count == 1, "the resting key was tried once: \(keys)")
            #expect(keys.filter { $0.contains("pool-good") }.count == 12)
            await components.usage.flush()
            let used = try await components.database.run { sql in
                try await sql.raw("SELECT DISTINCT key_id FROM usage_records WHERE model = 'routing/pool'").all().map {
                    try $0.decode(column: "key_id", as: String?.self)
                }
            }
            #expect(used == [good.id])
            _ = limited
        }
    }

    /// A deployment that names its key (a stored shared key, or a server variable) sends that key, not the model's.
    @Test func aDeploymentSendsTheKeyItNames() async throws {
        var environment = TrafficTest.environment
        environment["EU_OPENAI_API_KEY"] = "sk-eu-region-0123456789abcdef"
        try await GatewayHarness.run(extra: environment) { client, fakes, components in
            let stored = try await VaultAPI.store(client, userId: nil, name: "us", key: "sk-us-region-0123456789abcdef")
            let model = try await DeploymentTest.model(client, name: "routing/keys", upstreams: ["fake-echo-us", "fake-echo-eu"])
            let id = try #require(components.registry.model(named: model.name)).id
            let path = "/api/models/\(id)/deployments"
            #expect(try await client.call(.patch, "\(path)/\(model.deployments[0])", json: #"{"keyId": "\#(stored.id)"}"#).status == .ok)
            let eu = try await client.call(.patch, "\(path)/\(model.deployments[1])", json: #"{"apiKeyEnvVar": "EU_OPENAI_API_KEY", "region": "eu"}"#)
            #expect(eu.status == .ok && !eu.body.contains("sk-eu-region"), "\(eu.body)")
            for _ in 0..<20 { #expect(try await DeploymentTest.chat(client, model: model.name).status == .ok) }
            for request in await fakes.recorder.requests {
                let body = String(decoding: request.body, as: UTF8.self)
                if body.contains("fake-echo-us") { #expect(request.headers["authorization"] == "Bearer sk-us-region-0123456789abcdef") }
                if body.contains("fake-echo-eu") { #expect(request.headers["authorization"] == "Bearer sk-eu-region-0123456789abcdef") }
            }
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-echo-us") > 0)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-echo-eu") > 0)
        }
    }
}
