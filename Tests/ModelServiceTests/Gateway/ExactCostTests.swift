import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A call costs what the provider's invoice says: cache reads, 5-minute and 1-hour cache writes and output each
/// at the catalog's own price for them, on every door, relayed and translated, streamed and not; a prompt past a
/// tier's threshold at the tier's prices; and a model without prices is refused under a cost budget.
@Suite struct ExactCostTests {
    /// The fake reports these cached parts on top of the prompt's own words (`FakeCache`).
    static let read = 30_000, write = 2_000, write1h = 1_000

    struct Row: Sendable {
        var prompt: Int, completion: Int, cacheRead: Int, cacheWrite: Int, cacheWrite1h: Int, cost: Double, priced: Bool
    }

    static func lastRow(_ components: ServiceComponents) async throws -> Row {
        await components.usage.flush()
        let row = try await components.database.run { sql in
            try await sql.raw(
                """
                SELECT prompt_tokens, completion_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, cost, priced
                FROM usage_records ORDER BY at DESC, id DESC LIMIT 1
                """
            ).first()
        }
        let found = try #require(row)
        return Row(
            prompt: try found.decode(column: "prompt_tokens", as: Int.self), completion: try found.decode(column: "completion_tokens", as: Int.self),
            cacheRead: try found.decode(column: "cache_read_tokens", as: Int.self), cacheWrite: try found.decode(column: "cache_write_tokens", as: Int.self),
            cacheWrite1h: try found.decode(column: "cache_write_1h_tokens", as: Int.self), cost: try found.decode(column: "cost", as: Double.self),
            priced: try found.decode(column: "priced", as: Bool.self))
    }

    /// Registers the catalog's entry `catalogName` with its own prices, its upstream the fake reporting `upstream`'s cache counts.
    static func register(_ client: any TestClientProtocol, catalog catalogName: String, upstream: String) async throws -> (name: String, prices: ModelPrices) {
        let entry = try #require(try CatalogSeeder.catalog().first { $0.name.value == catalogName })
        let prices = try #require(entry.prices(over: nil))
        let name = "cost/\(catalogName)/\(upstream)"
        var body: [String: Any] = [
            "name": name, "provider": try #require(entry.provider.value), "modelId": upstream, "maxTokens": 300,
            "inputCostPerMillion": prices.rates.input, "outputCostPerMillion": prices.rates.output,
            "priceTiers": try JSONSerialization.jsonObject(with: JSONEncoder().encode(prices.tiers)),
        ]
        body["cacheReadCostPerMillion"] = prices.rates.cacheRead
        body["cacheWriteCostPerMillion"] = prices.rates.cacheWrite
        body["cacheWrite1hCostPerMillion"] = prices.rates.cacheWrite1h
        let created = try await client.call(.post, "/api/models", json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        #expect(created.status == .created, "\(created.body)")
        return (name, prices)
    }

    /// Each door the call can take: OpenAI's chat and Anthropic's Messages, streamed and not.
    static func call(_ client: any TestClientProtocol, model: String, messages: Bool, stream: Bool) async throws {
        let answer: (status: HTTPResponse.Status, body: String, headers: HTTPFields)
        if messages {
            let body = #"{"model": "\#(model)", "max_tokens": 100, "stream": \#(stream), "messages": [{"role": "user", "content": "Hello there"}]}"#
            answer = try await client.call(.post, "/v1/messages", json: body)
        } else {
            let extra = stream ? #", "stream_options": {"include_usage": true}"# : ""
            answer = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: stream, extra: extra))
        }
        #expect(answer.status == .ok, "\(model) messages=\(messages) stream=\(stream): \(answer.body)")
    }

    /// The invoice's figure, worked out here from the record's counts and the catalog's prices, one rate per part.
    static func invoice(_ row: Row, _ rates: ModelPrices.Rates) -> Double {
        let uncached = row.prompt - row.cacheRead - row.cacheWrite - row.cacheWrite1h
        let dollars =
            Double(uncached) * rates.input + Double(row.cacheRead) * (rates.cacheRead ?? rates.input)
            + Double(row.cacheWrite) * (rates.cacheWrite ?? rates.input) + Double(row.cacheWrite1h) * (rates.cacheWrite1h ?? rates.input)
            + Double(row.completion) * rates.output
        return dollars / 1_000_000
    }

    /// Each provider's cache fields read, on each door, and priced at the catalog's cache prices.
    @Test(arguments: TestDatabase.available)
    func everyDoorChargesCacheReadsAndWritesAtTheirOwnPrices(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let upstream = "fake-echo-cached-\(Self.read)-\(Self.write)-\(Self.write1h)"
            // Anthropic reports reads and both kinds of write; OpenAI `cached_tokens`; Gemini `cachedContentTokenCount`.
            for (catalogName, writes) in [("anthropic/claude-sonnet-4-5", true), ("openai/gpt-4o", false), ("gemini/gemini-2.5-flash", false)] {
                let (model, prices) = try await Self.register(client, catalog: catalogName, upstream: upstream)
                #expect((prices.rates.cacheRead ?? .infinity) < prices.rates.input, "\(catalogName) has no cache-read price in the catalog")
                for messages in [false, true] {
                    for stream in [false, true] {
                        try await Self.call(client, model: model, messages: messages, stream: stream)
                        let row = try await Self.lastRow(components)
                        let path = "\(catalogName) messages=\(messages) stream=\(stream)"
                        #expect(row.cacheRead == Self.read, "\(path): \(row)")
                        #expect(row.cacheWrite == (writes ? Self.write : 0) && row.cacheWrite1h == (writes ? Self.write1h : 0), "\(path): \(row)")
                        #expect(row.prompt > Self.read && row.prompt < 200_000, "\(path): \(row)")
                        #expect(row.priced && abs(row.cost - Self.invoice(row, prices.rates)) < 1e-12, "\(path): \(row.cost) vs \(Self.invoice(row, prices.rates))")
                        // The figure before cache prices, every prompt token at the input price, is far from the invoice.
                        let flat = (Double(row.prompt) * prices.rates.input + Double(row.completion) * prices.rates.output) / 1_000_000
                        #expect(abs(row.cost - flat) > flat / 3, "\(path): \(row) is priced as if nothing were cached (\(flat))")
                    }
                }
            }
        }
    }

    /// A prompt of more than 200k tokens is charged at the tier's prices, every part of it.
    @Test(arguments: TestDatabase.available)
    func aPromptPastTheTierThresholdIsChargedAtTheTiersPrices(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let upstream = "fake-echo-cached-250000-0-0"
            for catalogName in ["gemini/gemini-2.5-pro", "anthropic/claude-sonnet-4-5"] {
                let (model, prices) = try await Self.register(client, catalog: catalogName, upstream: upstream)
                let tier = try #require(prices.tiers.first { $0.aboveInputTokens == 200_000 }, "\(catalogName) has no 200k tier in the catalog")
                #expect(tier.inputCostPerMillion > prices.rates.input && tier.outputCostPerMillion > prices.rates.output)
                for stream in [false, true] {
                    try await Self.call(client, model: model, messages: false, stream: stream)
                    let row = try await Self.lastRow(components)
                    #expect(row.prompt > 250_000 && row.cacheRead == 250_000, "\(catalogName): \(row)")
                    #expect(abs(row.cost - Self.invoice(row, tier.rates)) < 1e-12, "\(catalogName) stream=\(stream): \(row.cost) vs \(Self.invoice(row, tier.rates))")
                    #expect(abs(row.cost - Self.invoice(row, prices.rates)) > 1e-6, "\(catalogName): charged at the base prices")
                }
            }
        }
    }

    /// A model without prices records no cost (not $0 as a price), and a call under a cost budget is refused
    /// unless the model allows it; a token-only budget does not need prices.
    @Test(arguments: TestDatabase.available)
    func anUnpricedModelIsRefusedUnderACostBudget(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let created = try await client.call(.post, "/api/models", json: #"{"name": "cost/unpriced", "provider": "openai", "modelId": "fake-echo"}"#)
            #expect(created.status == .created, "\(created.body)")
            let model = try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any]
            #expect(model?["priced"] as? Bool == false && model?["inputCostPerMillion"] is NSNull, "\(created.body)")

            // Without a budget the call is served and recorded without a cost.
            let free = try await TrafficTest.chat(client, model: "cost/unpriced")
            #expect(free.status == .ok, "\(free.body)")
            let row = try await Self.lastRow(components)
            #expect(!row.priced && row.cost == 0 && row.prompt > 0, "\(row)")

            for user in ["ivy", "tom"] {
                let body = user == "ivy" ? #"{"userId": "ivy", "period": "day", "maxCost": 5}"# : #"{"userId": "tom", "period": "day", "maxTokens": 100000}"#
                let budget = try await client.call(.post, "/api/budgets", json: body)
                #expect(budget.status == .created, "\(budget.body)")
            }
            for stream in [false, true] {
                let refused = try await TrafficTest.chat(client, model: "cost/unpriced", stream: stream, user: "ivy")
                #expect(refused.status == .forbidden && refused.body.contains("model_unpriced") && refused.body.contains("cost/unpriced"), "\(refused.body)")
            }
            let messages = #"{"model": "cost/unpriced", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}"#
            let refusedMessages = try await client.call(.post, "/v1/messages", json: messages, headers: [.init("X-User-Id")!: "ivy"])
            #expect(refusedMessages.status == .forbidden && refusedMessages.body.contains("permission_error"), "\(refusedMessages.body)")
            let tokensOnly = try await TrafficTest.chat(client, model: "cost/unpriced", user: "tom")
            #expect(tokensOnly.status == .ok, "a token-only budget needs no prices: \(tokensOnly.body)")

            let allowed = try await client.call(.patch, "/api/models/cost%2Funpriced", json: #"{"allowUnpriced": true}"#)
            #expect(allowed.status == .ok, "\(allowed.body)")
            let served = try await TrafficTest.chat(client, model: "cost/unpriced", user: "ivy")
            #expect(served.status == .ok, "\(served.body)")
            #expect(!(try await Self.lastRow(components)).priced)

            // Prices set later apply to the next call; setting both to null makes the model unpriced again.
            let priced = try await client.call(.patch, "/api/models/cost%2Funpriced", json: #"{"inputCostPerMillion": 2, "outputCostPerMillion": 8}"#)
            #expect(priced.status == .ok && priced.body.contains(#""inputCostPer1kTokens":0.002"#), "\(priced.body)")
            _ = try await TrafficTest.chat(client, model: "cost/unpriced", user: "ivy")
            let charged = try await Self.lastRow(components)
            #expect(charged.priced && abs(charged.cost - Self.invoice(charged, .init(input: 2, output: 8))) < 1e-12, "\(charged)")
            let cleared = try await client.call(.patch, "/api/models/cost%2Funpriced", json: #"{"inputCostPerMillion": null, "outputCostPerMillion": null}"#)
            #expect(cleared.status == .ok && cleared.body.contains(#""priced":false"#), "\(cleared.body)")
        }
    }

    /// A price change takes effect from its time: records before keep the cost they were charged, records after
    /// use the new price; the history lists both, newest first, and the audit log names the change.
    @Test(arguments: TestDatabase.available)
    func aPriceChangeAppliesFromItsTimeAndIsListedAndAudited(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let body = #"{"name": "cost/history", "provider": "openai", "modelId": "fake-echo", "inputCostPerMillion": 1, "outputCostPerMillion": 2}"#
            #expect(try await client.call(.post, "/api/models", json: body).status == .created)
            _ = try await TrafficTest.chat(client, model: "cost/history")
            let before = try await Self.lastRow(components)
            #expect(abs(before.cost - Self.invoice(before, .init(input: 1, output: 2))) < 1e-15, "\(before)")

            let changed = try await client.call(.patch, "/api/models/cost%2Fhistory", json: #"{"inputCostPerMillion": 10, "outputCostPerMillion": 20}"#)
            #expect(changed.status == .ok, "\(changed.body)")
            _ = try await TrafficTest.chat(client, model: "cost/history")
            let after = try await Self.lastRow(components)
            #expect(abs(after.cost - Self.invoice(after, .init(input: 10, output: 20))) < 1e-15, "\(after)")
            let costs = try await components.database.run { sql in
                try await sql.raw("SELECT cost FROM usage_records WHERE model = \(bind: "cost/history") ORDER BY at, id").all()
                    .map { try $0.decode(column: "cost", as: Double.self) }
            }
            #expect(costs == [before.cost, after.cost], "an earlier record was repriced: \(costs)")

            let history = try await client.call(.get, "/api/models/cost/history/prices")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(history.body.utf8)) as? [[String: Any]], "\(history.body)")
            #expect(entries.map { $0["inputCostPerMillion"] as? Double } == [10, 1], "\(history.body)")
            #expect(entries.allSatisfy { $0["effectiveAt"] is String && $0["priced"] as? Bool == true }, "\(history.body)")
            // A change that leaves the prices as they were adds no entry.
            _ = try await client.call(.patch, "/api/models/cost%2Fhistory", json: #"{"inputCostPerMillion": 10, "description": "same price"}"#)
            let unchanged = try await client.call(.get, "/api/models/cost%2Fhistory/prices")
            #expect((try JSONSerialization.jsonObject(with: Data(unchanged.body.utf8)) as? [Any])?.count == 2, "\(unchanged.body)")

            let audit = try await client.call(.get, "/api/audit")
            #expect(audit.body.contains("prices 1.0/2.0 per 1M -> 10.0/20.0 per 1M"), "\(audit.body.prefix(2000))")
        }
    }
}
