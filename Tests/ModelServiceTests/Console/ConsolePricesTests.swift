import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The console's Prices page approves a staged price-map import: Apply writes each change (audited, as
/// the admin) unless the model changed since, Discard writes nothing, and an import is decided once.
@Suite struct ConsolePricesTests {
    typealias Page = ConsoleSecurityTests

    @Test(arguments: TestDatabase.available)
    func aStagedImportIsAppliedOrDiscardedOnThePricesPage(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            for body in [
                #"{"name": "imp/changed", "provider": "openai", "modelId": "gpt-4o", "inputCostPerMillion": 1, "outputCostPerMillion": 1}"#,
                #"{"name": "imp/new", "provider": "anthropic", "modelId": "claude-import"}"#,
                #"{"name": "imp/edited", "provider": "gemini", "modelId": "gemini-same", "inputCostPerMillion": 5, "outputCostPerMillion": 5}"#,
            ] {
                #expect(try await client.call(.post, "/api/models", json: body).status == .created)
            }
            let map = try PriceMap(json: Data(PriceImportTests.sample.utf8))
            let imports = PriceImports(database: components.database)
            func stage() async throws -> String {
                try await imports.stage(map.diff(components.registry.models()), source: "model_prices_and_context_window.json")
            }
            let id = try await stage()
            // Edited after the import was staged: the approval must not overwrite it.
            #expect(try await client.call(.patch, "/api/models/imp%2Fedited", json: #"{"inputCostPerMillion": 7}"#).status == .ok)

            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
            let page = try await Page.get(client, "/console/prices", cookie: browser.cookie)
            #expect(page.status == .ok && page.body.contains("imp/changed") && page.body.contains("unpriced") && page.body.contains("Apply these prices"))
            #expect(try await Page.post(client, "/console/prices/\(id)/apply", [:], cookie: browser.cookie).status == .forbidden, "no CSRF token")

            let applied = try await Page.post(client, "/console/prices/\(id)/apply", ["csrf": browser.csrf], cookie: browser.cookie)
            #expect(applied.status == .seeOther && applied.headers[.location] == "/console/prices?done=applied&applied=2&skipped=1")
            let after = try await PriceImportTests.prices(components)
            #expect(after["imp/changed"] == ModelPrices(rates: .init(input: 2.5, output: 10, cacheRead: 1.25)))
            #expect(after["imp/new"]??.rates.input == 3)
            #expect(after["imp/edited"]??.rates.input == 7, "the model edited since the import keeps its prices")
            let notice = try await Page.get(client, try #require(applied.headers[.location]), cookie: browser.cookie)
            #expect(notice.body.contains("Applied 2 price changes; 1 skipped") && notice.body.contains("No price import is waiting"))
            let audit = try await client.call(.get, "/api/audit?action=update")
            #expect(audit.body.contains("model imp/new") && audit.body.contains(#""actorRole":"admin""#), "\(audit.body.prefix(2000))")
            let again = try await Page.post(client, "/console/prices/\(id)/apply", ["csrf": browser.csrf], cookie: browser.cookie)
            #expect(again.status == .notFound, "an import is decided once")

            #expect(try await client.call(.patch, "/api/models/imp%2Fnew", json: #"{"inputCostPerMillion": 9}"#).status == .ok)
            let second = try await stage()
            let discarded = try await Page.post(client, "/console/prices/\(second)/discard", ["csrf": browser.csrf], cookie: browser.cookie)
            #expect(discarded.status == .seeOther && discarded.headers[.location] == "/console/prices?done=discarded")
            #expect(try await PriceImportTests.prices(components)["imp/new"]??.rates.input == 9, "discarding changes nothing")
            #expect(try await imports.pending() == nil)
            let user = try await Page.userToken(client, userId: "ann")
            let (userBrowser, _) = try await Page.signIn(client, token: user)
            #expect(try await Page.get(client, "/console/prices", cookie: userBrowser.cookie).status == .forbidden)
        }
    }
}
