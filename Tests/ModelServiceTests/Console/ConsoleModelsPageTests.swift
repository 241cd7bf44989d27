import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The models page is filtered and paged on the server: one page of rows, whatever the registry's size.
@Suite struct ConsoleModelsPageTests {
    typealias Page = ConsoleSecurityTests

    @Test(arguments: TestDatabase.available)
    func theModelsPageShowsOnePageAndFiltersOnTheServer(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            for index in 0..<120 {
                let provider = index % 2 == 0 ? "openai" : "anthropic"
                let body = #"{"name": "page/m\#(String(format: "%03d", index))", "provider": "\#(provider)", "modelId": "m\#(index)"}"#
                #expect(try await client.call(.post, "/api/models", json: body).status == .created)
            }
            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
            func rows(_ body: String) -> Int { body.components(separatedBy: "<tr>\n  <td><a href=\"/console/models/").count - 1 }

            let first = try await Page.get(client, "/console/models", cookie: browser.cookie)
            #expect(first.status == .ok && rows(first.body) == ConsoleModelsController.perPage)
            #expect(first.body.contains("120 of 120 models; showing 1–50.") && first.body.contains("Next models") && !first.body.contains("Previous models"))
            let last = try await Page.get(client, "/console/models?page=3", cookie: browser.cookie)
            #expect(rows(last.body) == 20 && last.body.contains("showing 101–120") && !last.body.contains("Next models"))

            // Filters apply before paging, and the pager keeps them.
            let filtered = try await Page.get(client, "/console/models?provider=anthropic&q=PAGE", cookie: browser.cookie)
            #expect(rows(filtered.body) == 50 && filtered.body.contains("60 of 120 models"), "\(filtered.body.prefix(2000))")
            #expect(filtered.body.contains("/console/models?q=PAGE&amp;provider=anthropic&amp;page=2"))
            let narrow = try await Page.get(client, "/console/models?q=m007", cookie: browser.cookie)
            #expect(rows(narrow.body) == 1 && narrow.body.contains("page/m007"))

            // Past the end: no rows, and the way back leads to the last page.
            let beyond = try await Page.get(client, "/console/models?page=9223372036854775807", cookie: browser.cookie)
            #expect(beyond.status == .ok && rows(beyond.body) == 0 && beyond.body.contains("page=3"))
        }
    }
}
