import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Retries before the first byte, never after; fallbacks in order; the answering model named and recorded.
@Suite struct RetryFallbackTests {
    @Test(arguments: TestDatabase.available)
    func aFlakyUpstreamIsRetriedUntilItAnswers(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, fakes, components in
            let model = try await TrafficTest.model(client, upstream: "fake-flaky-2")
            let answer = try await TrafficTest.chat(client, model: model)
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(answer.headers[.init("X-Model-Service-Model")!] == model)
            // Two 500s, then the answer: the upstream saw every attempt.
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-flaky-2") == 3)
            let row = try #require(try await TrafficTest.usageRows(components).last)
            #expect(row.attempts == 3 && row.status == 200 && row.model == model)
        }
    }

    @Test(arguments: TestDatabase.available)
    func retriesStopAtUpstreamRetries(database: TestDatabase) async throws {
        var environment = TrafficTest.environment
        environment["UPSTREAM_RETRIES"] = "1"
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, _ in
            let model = try await TrafficTest.model(client, upstream: "fake-flaky-5")
            #expect(try await TrafficTest.chat(client, model: model).status == .badGateway)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-flaky-5") == 2)
        }
    }

    @Test(arguments: TestDatabase.available)
    func aFailingModelFallsOverToItsFallbacksInOrder(database: TestDatabase) async throws {
        var environment = TrafficTest.environment
        environment["CIRCUIT_FAILURES"] = "100"
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, components in
            let echo = try await TrafficTest.model(client, upstream: "fake-echo", provider: .anthropic)
            let down = try await TrafficTest.model(client, upstream: "fake-down-b")
            let primary = try await TrafficTest.model(client, upstream: "fake-error-500", fallbacks: [down, echo])
            for stream in [false, true] {
                let answer = try await TrafficTest.chat(client, model: primary, stream: stream)
                #expect(answer.status == .ok, "\(answer.body)")
                #expect(answer.headers[.init("X-Model-Service-Model")!] == echo)
            }
            // Each failing candidate was tried 1 + 2 retries times per call.
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-error-500") == 6)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-down-b") == 6)
            let rows = try await TrafficTest.usageRows(components)
            #expect(rows.count == 2)
            for row in rows {
                #expect(row.model == echo && row.requestedModel == primary && row.attempts == 7 && row.status == 200)
            }
            // /metrics counts them: 2 retries per failing candidate and call, one move to each fallback per call.
            let metrics = try await client.call(.get, "/metrics").body
            #expect(metrics.contains(#"model_service_gateway_retries_total{model="\#(primary)",provider="openai"} 4"#), "\(metrics)")
            #expect(metrics.contains(#"model_service_gateway_fallbacks_total{from_model="\#(primary)",to_model="\#(down)"} 2"#))
            #expect(metrics.contains(#"model_service_gateway_fallbacks_total{from_model="\#(down)",to_model="\#(echo)"} 2"#))
            #expect(metrics.contains(#"model_service_circuit_state{provider="openai""#))
        }
    }

    /// The fake `drop` model cuts the stream after its first chunk: the client has bytes, so no retry and no fallback.
    @Test(arguments: TestDatabase.available)
    func noRetryOnceTheFirstByteReachedTheClient(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, fakes, components in
            let echo = try await TrafficTest.model(client, upstream: "fake-echo")
            let dropping = try await TrafficTest.model(client, upstream: "fake-drop", fallbacks: [echo])
            let answer = try await TrafficTest.chat(client, model: dropping, stream: true)
            #expect(answer.status == .ok)
            #expect(answer.headers[.init("X-Model-Service-Model")!] == dropping)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-drop") == 1)
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-echo") == 0)
            let row = try #require(try await TrafficTest.usageRows(components).last)
            #expect(row.attempts == 1 && row.model == dropping)
        }
    }

    @Test(arguments: TestDatabase.available)
    func unknownOrCyclicFallbacksAreRefusedWhenTheModelIsSaved(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            func create(_ name: String, _ fallbacks: String) async throws -> (status: HTTPResponse.Status, body: String) {
                let response = try await client.call(.post, "/api/models", json: """
                    {"name": "\(name)", "provider": "openai", "modelId": "x", "fallbacks": \(fallbacks)}
                    """)
                return (response.status, response.body)
            }
            #expect(try await create("a", "[]").status == .created)
            let unknown = try await create("b", #"["nope"]"#)
            #expect(unknown.status == .badRequest && unknown.body.contains("fallbacks") && unknown.body.contains("nope"))
            #expect(try await create("b", #"["a"]"#).status == .created)
            #expect(try await create("self", #"["self"]"#).status == .badRequest)
            // a → b → a is a cycle, refused on PATCH too.
            let cycle = try await client.call(.patch, "/api/models/a", json: #"{"fallbacks": ["b"]}"#)
            #expect(cycle.status == .badRequest && cycle.body.contains("cycle"))
            let model = try decodeJSON(Model.self, try await client.call(.get, "/api/models/b").body)
            #expect(model.fallbacks == ["a"])
            #expect(try await client.call(.patch, "/api/models/b", json: #"{"fallbacks": []}"#).status == .ok)
            #expect(try await client.call(.patch, "/api/models/a", json: #"{"fallbacks": ["b"]}"#).status == .ok)
        }
    }
}
