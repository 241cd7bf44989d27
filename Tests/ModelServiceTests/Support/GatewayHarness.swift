import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The gateway on a real socket, in front of the fake providers on another: real HTTP both ways.
enum GatewayHarness {
    /// The environment key every provider falls back to in these tests (Ollama needs none).
    static func envKey(_ provider: ProviderKind) -> String { "sk-env-\(provider.rawValue)-0123456789abcdef" }

    /// Every provider's fallback key variable set: `envKey(_:)`, and for Vertex AI the fakes' trusted service account.
    static func envKeys(_ fakes: RunningFakeProviders) -> [String: String] {
        var keys: [String: String] = [:]
        for provider in ProviderKind.allCases {
            guard let variable = provider.defaultAPIKeyEnvVar else { continue }
            keys[variable] = provider == .vertex ? fakes.vertexServiceAccountJSON() : envKey(provider)
        }
        keys[compatibleKeyVariable] = envKey(.openaiCompatible)
        return keys
    }

    /// The key variable of the test models' OpenAI-compatible server (a server has its own, no provider default).
    static let compatibleKeyVariable = "FAKE_COMPATIBLE_API_KEY"

    /// What a test model of `provider` says beyond the common fields: an OpenAI-compatible one names its server.
    static func providerFields(_ provider: ProviderKind, _ fakes: RunningFakeProviders) -> String {
        guard provider == .openaiCompatible, let baseURL = fakes.baseURLs[provider.baseURLEnvVar] else { return "" }
        return #", "providerSettings": {"server": "fake", "baseURL": "\#(baseURL)"}, "apiKeyEnvVar": "\#(compatibleKeyVariable)""#
    }

    /// The registry name of the test model for `provider` whose upstream name is `upstream`.
    static func modelName(_ provider: ProviderKind, _ upstream: String = "fake-echo") -> String { "test-\(provider.rawValue)/\(upstream)" }

    static let upstreamModels = ["fake-echo", "fake-tool", "fake-error-400", "fake-error-500", "fake-rate-limit", "fake-hang", "fake-drop", "fake-stream-delay", "fake-missing"]

    /// A call's own short deadline (the SDKs' timeout header), for the cases that wait for `fake-hang` to time out:
    /// every other call keeps the long default, so a loaded machine never turns an answer into a timeout.
    static let shortDeadline: HTTPFields = [.init("X-Stainless-Timeout")!: "1"]

    static func run(
        database: TestDatabase = .sqlite,
        databaseURL: String? = nil,
        extra: [String: String] = [:],
        withEnvKeys: Bool = true,
        logger: Logger = TestApp.logger,
        /// Variables that depend on the fakes' address (a Vertex key file's `token_uri`), set last.
        fakeExtra: @Sendable (RunningFakeProviders) throws -> [String: String] = { _ in [:] },
        _ test: @Sendable (any TestClientProtocol, RunningFakeProviders, ServiceComponents) async throws -> Void
    ) async throws {
        let fakes = try await FakeProviderServer.start()
        var environment = fakes.baseURLs
        if withEnvKeys { environment.merge(envKeys(fakes)) { _, new in new } }
        environment["SEED_ON_START"] = "false"
        environment["USAGE_FLUSH_MS"] = "50"
        environment["UPSTREAM_TIMEOUT_SECONDS"] = "30"
        environment.merge(extra) { _, new in new }
        do {
            environment.merge(try fakeExtra(fakes)) { _, new in new }
            let url: String
            if let databaseURL { url = databaseURL } else { url = try await database.makeURL() }
            try await TestApp.run(databaseURL: url, extra: environment, live: true, logger: logger) { client, components in
                for provider in ProviderKind.allCases {
                    for upstream in upstreamModels {
                        let body = """
                            {"name": "\(modelName(provider, upstream))", "provider": "\(provider.rawValue)", "modelId": "\(upstream)",
                             "maxTokens": 300, "defaultTemperature": 0.5, "inputCostPer1kTokens": 1.5, "outputCostPer1kTokens": 2\(providerFields(provider, fakes))}
                            """
                        let created = try await client.call(.post, "/api/models", json: body)
                        #expect(created.status == .created, "\(created.body)")
                    }
                }
                try await test(client, fakes, components)
            }
        } catch {
            await fakes.stop()
            throw error
        }
        await fakes.stop()
    }

    static func chatBody(model: String, stream: Bool, tools: Bool = false, extra: String = "") -> String {
        let toolsJSON = tools
            ? #", "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#
            : ""
        return """
            {"model": "\(model)", "stream": \(stream), "messages": [
              {"role": "system", "content": "You are terse."},
              {"role": "user", "content": "Hello there"}
            ]\(toolsJSON)\(extra)}
            """
    }

    /// The `data:` payloads of an SSE body, without `[DONE]`; and whether it ended with `[DONE]`.
    static func events(_ body: String) -> (events: [[String: Any]], done: Bool) {
        var events: [[String: Any]] = []
        var done = false
        for line in body.split(separator: "\n") where line.hasPrefix("data: ") {
            let payload = line.dropFirst(6)
            if payload == "[DONE]" {
                done = true
                continue
            }
            if let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] { events.append(object) }
        }
        return (events, done)
    }

    /// The text the deltas of a stream join to.
    static func joinedText(_ events: [[String: Any]]) -> String {
        events.compactMap { event -> String? in
            guard let choices = event["choices"] as? [[String: Any]], let delta = choices.first?["delta"] as? [String: Any] else { return nil }
            return delta["content"] as? String
        }.joined()
    }

    static func message(_ body: String) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let choices = try #require(object["choices"] as? [[String: Any]])
        return try #require(choices.first?["message"] as? [String: Any])
    }
}
