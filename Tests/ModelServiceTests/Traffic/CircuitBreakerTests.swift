import FakeProviders
import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Circuits open on failures, refuse or fall over while open, let one probe through half-open, and close again.
@Suite struct CircuitBreakerTests {
    struct Health: Decodable {
        struct Circuit: Decodable {
            var provider: String
            var upstreamModel: String
            var state: String
            var recentErrorRate: Double
            var lastError: String?
        }
        var circuits: [Circuit]
    }

    @Test(arguments: TestDatabase.available)
    func theCircuitOpensHalfOpensAndCloses(database: TestDatabase) async throws {
        let environment = TrafficTest.environment.merging(["UPSTREAM_RETRIES": "0", "CIRCUIT_FAILURES": "2", "CIRCUIT_OPEN_MS": "4000"]) { _, new in new }
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, _ in
            // Two 500s, then answers.
            let model = try await TrafficTest.model(client, upstream: "fake-flaky-2")
            #expect(try await TrafficTest.chat(client, model: model).status == .badGateway)
            #expect(try await TrafficTest.chat(client, model: model).status == .badGateway)
            let refused = try await TrafficTest.chat(client, model: model)
            #expect(refused.status == .serviceUnavailable)
            #expect(try decodeJSON(ErrorBody.self, refused.body).error.code == "provider_unavailable")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-flaky-2") == 2)

            let open = try decodeJSON(Health.self, try await client.call(.get, "/api/providers/health").body)
            let circuit = try #require(open.circuits.first { $0.upstreamModel == "fake-flaky-2" })
            #expect(circuit.state == "open" && circuit.recentErrorRate == 1 && circuit.lastError == "upstream error (500)")
            #expect(!(try await client.call(.get, "/api/providers/health").body.contains(GatewayHarness.envKey(.openai))))

            // After the open period one probe goes through; its success closes the circuit.
            try await Task.sleep(for: .milliseconds(4_200))
            #expect(try await TrafficTest.chat(client, model: model).status == .ok)
            let closed = try decodeJSON(Health.self, try await client.call(.get, "/api/providers/health").body)
            #expect(closed.circuits.first { $0.upstreamModel == "fake-flaky-2" }?.state == "closed")
            #expect(try await TrafficTest.chat(client, model: model).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.available)
    func anOpenCircuitFallsOverWithoutCallingTheUpstream(database: TestDatabase) async throws {
        let environment = TrafficTest.environment.merging(["UPSTREAM_RETRIES": "0", "CIRCUIT_FAILURES": "1", "CIRCUIT_OPEN_MS": "60000"]) { _, new in new }
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, components in
            let echo = try await TrafficTest.model(client, upstream: "fake-echo")
            let primary = try await TrafficTest.model(client, upstream: "fake-error-500", fallbacks: [echo])
            for _ in 0..<3 {
                let answer = try await TrafficTest.chat(client, model: primary)
                #expect(answer.status == .ok)
                #expect(answer.headers[.init("X-Model-Service-Model")!] == echo)
            }
            // Only the first call reached the failing upstream; then its circuit was open.
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-error-500") == 1)
            #expect(try await TrafficTest.usageRows(components).map(\.attempts) == [2, 1, 1])
            #expect(try await client.call(.get, "/api/providers/health", token: nil).status == .unauthorized)
        }
    }

    @Test func halfOpenLetsExactlyOneCallThrough() {
        let clock = Mutex<Int64>(0)
        var settings = CircuitBreakers.Settings()
        settings.consecutiveFailures = 1
        settings.openMillis = 1_000
        let breakers = CircuitBreakers(settings: settings, now: { clock.withLock { $0 } })
        let key = CircuitBreakers.Key(provider: .openai, baseURL: "http://x", upstreamModel: "m")
        #expect(breakers.acquire(key) == .allowed)
        breakers.record(key, success: false, error: "timeout")
        #expect(breakers.acquire(key) == .refused(retryAfterSeconds: 1))
        clock.withLock { $0 = 1_000 }
        #expect(breakers.acquire(key) == .allowed)
        #expect(breakers.acquire(key) != .allowed)
        breakers.record(key, success: false)  // the probe failed: open again
        #expect(breakers.statuses().first?.state == .open)
        clock.withLock { $0 = 2_000 }
        #expect(breakers.acquire(key) == .allowed)
        breakers.record(key, success: true)
        #expect(breakers.statuses().first?.state == .closed)
        #expect(breakers.acquire(key) == .allowed && breakers.acquire(key) == .allowed)
    }

    @Test func anErrorRateOverTheWindowOpensTheCircuit() {
        let breakers = CircuitBreakers()
        let key = CircuitBreakers.Key(provider: .openai, baseURL: "http://x", upstreamModel: "m")
        for index in 0..<12 { breakers.record(key, success: index % 3 == 0) }
        #expect(breakers.statuses().first?.state == .open)
    }
}
