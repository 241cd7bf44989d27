import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The console's model page lists the deployments (weight, share of recent calls, state); their own page adds,
/// changes, switches off and removes one and sets the routing, through the same registry calls as the API.
@Suite struct ConsoleDeploymentsTests {
    typealias Page = ConsoleSecurityTests

    @Test func deploymentsAreListedAndEditedOnTheConsole() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, components in
            let model = try await DeploymentTest.model(client, name: "console/deployed", upstreams: ["fake-echo-a", "fake-echo-b"], weights: [3, 1])
            let id = try #require(components.registry.model(named: model.name)).id
            for _ in 0..<8 { _ = try await DeploymentTest.chat(client, model: model.name) }
            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)

            let modelPage = try await Page.get(client, "/console/models/\(id)", cookie: browser.cookie)
            #expect(modelPage.status == .ok && modelPage.body.contains(model.deployments[0]) && modelPage.body.contains(model.deployments[1]))
            #expect(modelPage.body.contains("Share of recent calls") && modelPage.body.contains("%</td>") && modelPage.body.contains(">active<"))
            // Searched for: the list pages by 50 in provider order, and the harness registers more models than that.
            let list = try await Page.get(client, "/console/models?q=console/deployed", cookie: browser.cookie)
            #expect(list.body.contains("/console/models/\(id)/deployments"))

            let page = "/console/models/\(id)/deployments"
            #expect(try await Page.post(client, page, ["modelId": "x"], cookie: browser.cookie).status == .forbidden, "no CSRF token")
            let refused = try await Page.post(client, page, ["csrf": browser.csrf, "weight": "5000", "modelId": "fake-echo-c"], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent && refused.body.contains("Weight must be an integer from 1 to 1000"), "\(refused.body)")
            let added = try await Page.post(
                client, page, ["csrf": browser.csrf, "weight": "2", "modelId": "fake-echo-c", "region": "eu-west"], cookie: browser.cookie)
            #expect(added.status == .seeOther && added.headers[.location] == "\(page)?done=added")
            let third = try #require(components.registry.model(named: model.name)?.deployments.last)
            #expect(third.modelId == "fake-echo-c" && third.weight == 2 && third.region == "eu-west")

            let changed = try await Page.post(client, "\(page)/\(third.id)", ["csrf": browser.csrf, "weight": "7", "modelId": "fake-echo-d"], cookie: browser.cookie)
            #expect(changed.status == .seeOther)
            let after = try #require(components.registry.model(named: model.name)?.deployments.last)
            #expect(after.weight == 7 && after.modelId == "fake-echo-d" && after.region == nil, "an emptied field follows the model again")

            #expect(try await Page.post(client, "\(page)/\(third.id)/disable", ["csrf": browser.csrf], cookie: browser.cookie).status == .seeOther)
            #expect(components.registry.model(named: model.name)?.deployments.last?.isActive == false)
            let routing = try await Page.post(client, "/console/models/\(id)/routing", ["csrf": browser.csrf, "strategy": "least-busy"], cookie: browser.cookie)
            #expect(routing.status == .seeOther)
            #expect(components.registry.model(named: model.name)?.routing == Routing(strategy: .leastBusy, promptCacheAffinity: false))
            #expect(try await Page.post(client, "\(page)/\(third.id)/delete", ["csrf": browser.csrf], cookie: browser.cookie).status == .seeOther)
            #expect(components.registry.model(named: model.name)?.deployments.count == 2)
            let shown = try await Page.get(client, page, cookie: browser.cookie)
            #expect(shown.status == .ok && shown.body.contains("Least busy") && !shown.body.contains(third.id))

            let user = try await Page.userToken(client, userId: "ann")
            let (userBrowser, _) = try await Page.signIn(client, token: user)
            #expect(try await Page.get(client, page, cookie: userBrowser.cookie).status == .forbidden)
        }
    }
}
