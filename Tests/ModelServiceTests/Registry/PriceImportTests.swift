import Foundation
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `model-service prices import FILE` as a real process on a real database: it shows how a price map differs from
/// the registry (new, changed, gone), changes nothing without `--apply`, and with it writes the prices, audited.
@Suite struct PriceImportTests {
    /// A sample in the `model_prices_and_context_window.json` format: USD per token.
    static let sample = """
        {
          "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0, "litellm_provider": "one of the providers"},
          "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06,
                     "litellm_provider": "openai", "mode": "chat"},
          "anthropic/claude-import": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "cache_read_input_token_cost": 3e-07,
                     "cache_creation_input_token_cost": 3.75e-06, "cache_creation_input_token_cost_above_1hr": 6e-06,
                     "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
                     "cache_read_input_token_cost_above_200k_tokens": 6e-07, "litellm_provider": "anthropic", "mode": "chat"},
          "gemini/gemini-same": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
          "some-other-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
          "not-a-price": "ignored"
        }
        """

    static func prices(_ components: ServiceComponents) async throws -> [String: ModelPrices?] {
        try await components.registry.reload()
        return Dictionary(uniqueKeysWithValues: components.registry.models().filter { $0.name.hasPrefix("imp/") }.map { ($0.name, $0.prices) })
    }

    static func run(_ arguments: [String], url: String, directory: URL) async throws -> (status: Int32, output: String) {
        var environment = TestApp.environment(databaseURL: url, extra: ["LOG_LEVEL": "warning", "SEED_ON_START": "false"])
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let output = directory.appendingPathComponent("out-\(UUID().uuidString).log")
        return try await KeyRotationTests.runToEnd(arguments, environment: environment, output: output)
    }

    @Test(arguments: TestDatabase.available)
    func theDiffIsShownAndAppliedOnlyWithApproval(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("price-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("model_prices_and_context_window.json")
        try Data(Self.sample.utf8).write(to: file)

        let before = try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"]) { client, components in
            for body in [
                #"{"name": "imp/changed", "provider": "openai", "modelId": "gpt-4o", "inputCostPerMillion": 1, "outputCostPerMillion": 1}"#,
                #"{"name": "imp/new", "provider": "anthropic", "modelId": "claude-import"}"#,
                #"{"name": "imp/gone", "provider": "openai", "modelId": "not-in-the-map", "inputCostPerMillion": 1, "outputCostPerMillion": 1}"#,
                #"{"name": "imp/same", "provider": "gemini", "modelId": "gemini-same", "inputCostPerMillion": 1, "outputCostPerMillion": 2}"#,
            ] {
                let created = try await client.call(.post, "/api/models", json: body)
                #expect(created.status == .created, "\(created.body)")
            }
            return try await Self.prices(components)
        }

        // Without --apply: the differences, and nothing written.
        let shown = try await Self.run(["prices", "import", file.path], url: url, directory: directory)
        #expect(shown.status == 0, "\(shown.output)")
        let lines = shown.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("changed  imp/changed") && $0.contains("1.0/1.0 per 1M -> 2.5/10.0 per 1M, cache read 1.25") }, "\(shown.output)")
        #expect(lines.contains { $0.hasPrefix("new      imp/new") && $0.contains("unpriced -> 3.0/15.0 per 1M, cache read 0.3, cache write 3.75, 1h write 6.0, 1 tier(s) above 200000") },
                "\(shown.output)")
        #expect(lines.contains { $0.hasPrefix("gone     imp/gone") && $0.contains("left as it is") }, "\(shown.output)")
        #expect(!shown.output.contains("imp/same") && shown.output.contains("--apply"), "\(shown.output)")
        let unchanged = try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"]) { _, components in
            let staged = try await PriceImports(database: components.database).pending()
            #expect(staged?.changes.map(\.modelName).sorted() == ["imp/changed", "imp/gone", "imp/new"], "staged for the console")
            return try await Self.prices(components)
        }
        #expect(unchanged == before, "prices changed without --apply")

        // With --apply: new and changed written, gone left alone, each change audited and in the history.
        let applied = try await Self.run(["prices", "import", file.path, "--apply"], url: url, directory: directory)
        #expect(applied.status == 0 && applied.output.contains("applied 2 price changes"), "\(applied.output)")
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"]) { client, components in
            let after = try await Self.prices(components)
            #expect(after["imp/changed"] == ModelPrices(rates: .init(input: 2.5, output: 10, cacheRead: 1.25)))
            let tier = ModelPrices.Tier(
                aboveInputTokens: 200_000, inputCostPerMillion: 6, outputCostPerMillion: 22.5, cacheReadCostPerMillion: 0.6,
                cacheWriteCostPerMillion: nil, cacheWrite1hCostPerMillion: nil)
            #expect(after["imp/new"] == ModelPrices(rates: .init(input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6), tiers: [tier]))
            #expect(after["imp/gone"] == before["imp/gone"] && after["imp/same"] == before["imp/same"])
            let audit = try await client.call(.get, "/api/audit")
            #expect(audit.body.contains("model imp/changed; changed") && audit.body.contains(#""actorRole":"cli""#), "\(audit.body.prefix(3000))")
            #expect(try await PriceImports(database: components.database).pending() == nil, "--apply supersedes the staged import")
            let history = try await client.call(.get, "/api/models/imp%2Fchanged/prices")
            #expect((try JSONSerialization.jsonObject(with: Data(history.body.utf8)) as? [Any])?.count == 2, "\(history.body)")
        }

        // A file that is not a price map: one clear line and a non-zero exit.
        let broken = directory.appendingPathComponent("broken.json")
        try Data("[1, 2".utf8).write(to: broken)
        let refused = try await Self.run(["prices", "import", broken.path], url: url, directory: directory)
        #expect(refused.status != 0 && refused.output.contains("is not a JSON object"), "\(refused.output)")
    }
}
