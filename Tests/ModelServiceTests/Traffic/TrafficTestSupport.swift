import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Helpers shared by the traffic tests: extra models on the fake providers, calls, usage rows.
enum TrafficTest {
    /// Fast, deterministic retries for tests; individual tests override what they exercise.
    /// The call's deadline is long enough that a loaded machine never cuts the retries short.
    static let environment = [
        "UPSTREAM_RETRY_BASE_MS": "5", "UPSTREAM_RETRY_MAX_MS": "20", "UPSTREAM_RETRY_AFTER_CAP_MS": "20", "UPSTREAM_TIMEOUT_SECONDS": "10",
    ]

    /// Creates an OpenAI-format model whose upstream name picks the fake's behaviour; returns its registry name.
    @discardableResult
    static func model(
        _ client: any TestClientProtocol, upstream: String, fallbacks: [String] = [], provider: ProviderKind = .openai
    ) async throws -> String {
        let name = "traffic/\(upstream)"
        let list = fallbacks.map { "\"\($0)\"" }.joined(separator: ",")
        let created = try await client.call(.post, "/api/models", json: """
            {"name": "\(name)", "provider": "\(provider.rawValue)", "modelId": "\(upstream)", "maxTokens": 300,
             "inputCostPer1kTokens": 1.5, "outputCostPer1kTokens": 2, "fallbacks": [\(list)]}
            """)
        #expect(created.status == .created, "\(created.body)")
        return name
    }

    static func chat(_ client: any TestClientProtocol, model: String, stream: Bool = false, token: String = TestApp.adminToken, user: String? = nil)
        async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields)
    {
        var headers: HTTPFields = [:]
        if let user { headers[.init("X-User-Id")!] = user }
        return try await client.call(.post, "/v1/chat/completions", token: token, json: GatewayHarness.chatBody(model: model, stream: stream), headers: headers)
    }

    /// Requests the fake received for an upstream model name.
    static func upstreamCalls(_ fakes: RunningFakeProviders, model: String) async -> Int {
        await fakes.recorder.requests.filter { String(decoding: $0.body, as: UTF8.self).contains("\"\(model)\"") }.count
    }

    struct UsageRow: Sendable {
        var model: String
        var requestedModel: String?
        var attempts: Int
        var status: Int
        var cost: Double
    }

    static func usageRows(_ components: ServiceComponents) async throws -> [UsageRow] {
        await components.usage.flush()
        return try await components.database.run { sql in
            try await sql.raw("SELECT model, requested_model, attempts, status, cost FROM usage_records ORDER BY at").all().map {
                UsageRow(
                    model: try $0.decode(column: "model", as: String.self), requestedModel: try $0.decode(column: "requested_model", as: String?.self),
                    attempts: try $0.decode(column: "attempts", as: Int.self), status: try $0.decode(column: "status", as: Int.self),
                    cost: try $0.decode(column: "cost", as: Double.self))
            }
        }
    }
}
