import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The console's Webhooks page: add a webhook (secret shown once), send a test, read the delivery log, delete.
@Suite struct ConsoleWebhookTests {
    typealias Page = ConsoleSecurityTests

    @Test(arguments: TestDatabase.available)
    func anAdminAddsAWebhookAndReadsItsDeliveryLog(_ database: TestDatabase) async throws {
        try await WebhookReceiver.with(failures: 1) { url, receiver in
            try await TestApp.run(databaseURL: try await database.makeURL(), extra: WebhookTests.environment, live: true) { client, components in
                let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
                let empty = try await Page.get(client, "/console/webhooks", cookie: browser.cookie)
                #expect(empty.status == .ok && empty.body.contains("No deliveries yet."))
                #expect(empty.body.contains(#"<a href="/console/webhooks" aria-current="page">Webhooks</a>"#))

                // A bad URL is refused next to its field, and what was typed is kept.
                let refused = try await Page.post(
                    client, "/console/webhooks", ["csrf": browser.csrf, "url": "ftp://example.com/x", "format": "json", "event-key-invalid": "true"],
                    cookie: browser.cookie)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.body.contains(#"id="field-url-error""#) && refused.body.contains("ftp://example.com/x") && refused.body.contains("checked"))
                let noEvents = try await Page.post(client, "/console/webhooks", ["csrf": browser.csrf, "url": url, "format": "json"], cookie: browser.cookie)
                #expect(noEvents.status == .unprocessableContent && noEvents.body.contains(#"id="field-events-error""#))
                let forged = try await Page.post(client, "/console/webhooks", ["csrf": "wrong", "url": url, "event-key-invalid": "true"], cookie: browser.cookie)
                #expect(forged.status == .forbidden)
                #expect(try await components.webhooks.list().isEmpty)

                let added = try await Page.post(
                    client, "/console/webhooks", ["csrf": browser.csrf, "url": url, "format": "slack", "event-budget-exceeded": "true"], cookie: browser.cookie)
                #expect(added.status == .ok)
                let webhook = try #require(try await components.webhooks.list().first)
                #expect(webhook.url == url && webhook.events == [.budgetExceeded] && webhook.format == .slack)
                let secret = try #require(added.body.range(of: #"value="whsec_"#).map { range in
                    "whsec_" + added.body[range.upperBound...].prefix { $0 != "\"" }
                })

                let tested = try await Page.post(client, "/console/webhooks/\(webhook.id)/test", ["csrf": browser.csrf], cookie: browser.cookie)
                #expect(tested.status == .seeOther && tested.headers[.location] == "/console/webhooks?done=test")
                let delivered = try await eventually(timeout: .seconds(10)) {
                    try await components.webhooks.deliveries(webhookId: webhook.id)?.first?.status == .delivered
                }
                #expect(delivered != nil)
                let seen = await receiver.seen
                #expect(seen.count == 2 && seen.allSatisfy { $0.signatureVerifies(secret: secret) })

                let page = try await Page.get(client, "/console/webhooks", cookie: browser.cookie)
                #expect(page.status == .ok && !page.body.contains(secret))
                let row = try #require(page.body.components(separatedBy: "<tr>").first { $0.contains(">test</td>") })
                #expect(row.contains("status-delivered") && row.contains("<td>2</td>") && row.contains("<td>200</td>") && row.contains(url))

                let deleted = try await Page.post(client, "/console/webhooks/\(webhook.id)/delete", ["csrf": browser.csrf], cookie: browser.cookie)
                #expect(deleted.status == .seeOther)
                #expect(try await components.webhooks.list().isEmpty)

                // Admins only.
                let user = try await Page.userToken(client, userId: "vic")
                let (userBrowser, _) = try await Page.signIn(client, token: user)
                #expect(try await Page.get(client, "/console/webhooks", cookie: userBrowser.cookie).status == .forbidden)
            }
        }
    }
}
