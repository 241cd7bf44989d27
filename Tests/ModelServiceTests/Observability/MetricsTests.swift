import Foundation
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `GET /metrics`: the gateway's counters move with known calls through the fake providers, no
/// secret or user id ever appears, and `METRICS_TOKEN` guards the endpoint.
@Suite struct MetricsTests {
    /// The value of the series `name{labels…}` whose labels include all of `labels`.
    static func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space]
            let seriesName = series.split(separator: "{", maxSplits: 1).first.map(String.init) ?? ""
            guard seriesName == name else { continue }
            let matches = labels.allSatisfy { key, value in series.contains("\(key)=\"\(value)\"") }
            if matches { return Double(line[line.index(after: space)...]) }
        }
        return nil
    }

    static func scrape(_ client: any TestClientProtocol, token: String? = nil) async throws -> String {
        let response = try await client.call(.get, "/metrics", token: token)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
        return response.body
    }

    @Test(arguments: TestDatabase.available)
    func gatewayMetricsMoveWithTraffic(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, _ in
            let model = GatewayHarness.modelName(.openai)
            let before = try await Self.scrape(client, token: nil)
            #expect(Self.value(before, "model_service_gateway_calls_total", ["model": model]) == nil)

            for _ in 0..<2 {
                let answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false))
                #expect(answer.status == .ok, "\(answer.body)")
            }
            let streamed = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true, extra: #", "stream_options": {"include_usage": true}"#))
            #expect(streamed.status == .ok)
            let failing = GatewayHarness.modelName(.openai, "fake-error-500")
            let failed = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: failing, stream: false))
            #expect(failed.status == .badGateway)

            let text = try await Self.scrape(client)
            let base = ["model": model, "provider": "openai", "door": "chat.completions"]
            #expect(Self.value(text, "model_service_gateway_calls_total", base.merging(["status_class": "2xx"]) { $1 }) == 3)
            #expect(Self.value(text, "model_service_gateway_calls_total", ["model": failing, "status_class": "5xx"]) == 1)
            #expect(Self.value(text, "model_service_upstream_errors_total", ["provider": "openai"]) == 1)
            #expect(Self.value(text, "gen_ai_client_operation_duration_seconds_count", ["gen_ai_request_model": model]) == 3)
            #expect(Self.value(text, "gen_ai_server_time_to_first_token_seconds_count", ["gen_ai_request_model": model]) == 1)

            // Tokens and cost agree with the usage records the same calls wrote.
            let written = try await eventually(timeout: .seconds(20)) {
                let report = try decodeJSON(UsageReport.self, try await client.call(.get, "/api/usage?groupBy=model").body)
                return report.groups.first { $0.key == model }?.totals.requests == 3
            }
            #expect(written != nil, "usage records were not written")
            let report = try decodeJSON(UsageReport.self, try await client.call(.get, "/api/usage?groupBy=model").body)
            let totals = try #require(report.groups.first { $0.key == model }?.totals)
            #expect(totals.promptTokens > 0 && totals.completionTokens > 0)
            let input = Self.value(text, "gen_ai_client_token_usage_sum", ["gen_ai_request_model": model, "gen_ai_token_type": "input"])
            let output = Self.value(text, "gen_ai_client_token_usage_sum", ["gen_ai_request_model": model, "gen_ai_token_type": "output"])
            #expect(input == Double(totals.promptTokens))
            #expect(output == Double(totals.completionTokens))
            let cost = try #require(Self.value(text, "model_service_gateway_cost_usd_total", ["model": model]))
            #expect(abs(cost - totals.cost) < 1e-9)
            #expect(cost > 0)

            // Scrape-time gauges and the HTTP metrics of Hummingbird's middleware are there too.
            #expect(Self.value(text, "model_service_usage_queue_depth") != nil)
            #expect(Self.value(text, "model_service_database_connections_in_use") != nil)
            #expect(Self.value(text, "model_service_vault_undecryptable_keys") == 0)
            #expect(text.contains("hb_requests") && text.contains("http_server_request_duration"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func metricsHoldNoSecretTokenOrUserId(database: TestDatabase) async throws {
        let userId = "alice-known-user-7f3a"
        let storedKey = "sk-stored-known-secret-4b9e1c"
        let prompt = "Hello there"
        try await GatewayHarness.run(database: database) { client, _, _ in
            let stored = try await client.call(
                .post, "/api/api-keys", json: #"{"provider": "openai", "shared": true, "apiKey": "\#(storedKey)", "validate": false}"#)
            #expect(stored.status == .created, "\(stored.body)")
            let created = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "\#(userId)"}"#)
            #expect(created.status == .created)
            let userToken = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])["token"] as? String
            let model = GatewayHarness.modelName(.openai)
            let asUser = try await client.call(.post, "/v1/chat/completions", token: userToken, json: GatewayHarness.chatBody(model: model, stream: false))
            #expect(asUser.status == .ok, "\(asUser.body)")
            let forUser = try await client.call(
                .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true), headers: [.init("X-User-Id")!: userId])
            #expect(forUser.status == .ok)
            _ = try await client.call(.get, "/api/api-keys/\(userId)", token: userToken)

            let text = try await Self.scrape(client)
            #expect(Self.value(text, "model_service_gateway_calls_total", ["model": model]) != nil)
            for secret in [userId, storedKey, String(storedKey.prefix(12)), TestApp.adminToken, try #require(userToken), GatewayHarness.envKey(.openai), prompt] {
                #expect(!text.contains(secret), "'\(secret)' appears in /metrics")
            }
        }
    }

    @Test func metricsTokenIsRequiredWhenSet() async throws {
        let metricsToken = "metrics-token-0123456789abcdef"
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: ["METRICS_TOKEN": metricsToken]) { client, _ in
            #expect(try await client.call(.get, "/metrics", token: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/metrics", token: "metrics-token-wrong-456789abcdef").status == .unauthorized)
            // An admin access token is not the metrics token.
            #expect(try await client.call(.get, "/metrics", token: TestApp.adminToken).status == .unauthorized)
            let allowed = try await client.call(.get, "/metrics", token: metricsToken)
            #expect(allowed.status == .ok)
            #expect(allowed.body.contains("# TYPE"))
        }
    }

    @Test func metricsAreOpenByDefault() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL()) { client, _ in
            let response = try await client.call(.get, "/metrics", token: nil)
            #expect(response.status == .ok)
        }
    }

    @Test func recorderMethodsForLaterStepsEmitBoundedSeries() {
        let metrics = GatewayMetrics()
        metrics.recordRetry(model: "m", provider: .openai)
        metrics.recordFallback(from: "m", to: "n")
        metrics.setCircuitState(provider: .anthropic, target: "https://api.anthropic.com", state: "open")
        metrics.recordUsageWriteFailure()
        metrics.setUsageDeadLetters(2)
        let text = metrics.registry.emitToString()
        #expect(Self.value(text, "model_service_gateway_retries_total", ["model": "m"]) == 1)
        #expect(Self.value(text, "model_service_gateway_fallbacks_total", ["from_model": "m", "to_model": "n"]) == 1)
        #expect(Self.value(text, "model_service_circuit_state", ["provider": "anthropic", "state": "open"]) == 1)
        #expect(Self.value(text, "model_service_circuit_state", ["provider": "anthropic", "state": "closed"]) == 0)
        #expect(Self.value(text, "model_service_usage_write_failures_total") == 1)
        #expect(Self.value(text, "model_service_usage_dead_letters") == 2)
    }
}
