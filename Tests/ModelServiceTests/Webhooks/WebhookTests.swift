import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Alert webhooks end to end against a local receiver: signed, retried after a 500, sent once after a 2xx,
/// the delivery log, the Slack body, URL rules, and real alerts from the gateway (budgets, circuits, keys).
@Suite struct WebhookTests {
    /// Fast polls and retries, so a retry shows within a test's patience.
    static let environment = ["WEBHOOK_POLL_MS": "50", "WEBHOOK_RETRY_BASE_MS": "100", "SEED_ON_START": "false"]

    static func create(_ client: any TestClientProtocol, url: String, events: [String], format: String = "json") async throws -> CreatedWebhook.Decoded {
        let body = #"{"url": "\#(url)", "events": [\#(events.map { "\"\($0)\"" }.joined(separator: ", "))], "format": "\#(format)"}"#
        let created = try await client.call(.post, "/api/webhooks", json: body)
        #expect(created.status == .created, "\(created.body)")
        return try decodeJSON(CreatedWebhook.Decoded.self, created.body)
    }

    static func deliveries(_ client: any TestClientProtocol, _ webhookId: String) async throws -> [WebhookDelivery] {
        let listed = try await client.call(.get, "/api/webhooks/\(webhookId)/deliveries")
        #expect(listed.status == .ok, "\(listed.body)")
        return try decodeJSON([WebhookDelivery].self, listed.body)
    }

    @Test(arguments: TestDatabase.available)
    func aDeliveryIsSignedRetriedAfterA500AndNotSentAgainAfterA200(database: TestDatabase) async throws {
        try await WebhookReceiver.with(failures: 1) { url, receiver in
            try await TestApp.run(databaseURL: try await database.makeURL(), extra: Self.environment, live: true) { client, components in
                let created = try await Self.create(client, url: url, events: ["budget.threshold", "key.invalid"])
                #expect(created.secret.hasPrefix("whsec_") && created.secret.count > 40)
                #expect(created.webhook.events == [.budgetThreshold, .keyInvalid] && created.webhook.format == .json && created.webhook.active)

                // The secret is shown once: not in the listing, and stored only encrypted.
                let listed = try await client.call(.get, "/api/webhooks")
                #expect(listed.status == .ok && listed.body.contains(created.webhook.id) && !listed.body.contains(created.secret))
                let stored = try await components.database.run { sql in
                    try await sql.raw("SELECT secret_ciphertext FROM webhooks WHERE id = \(bind: created.webhook.id)").first()?
                        .decode(column: "secret_ciphertext", as: String.self)
                }
                #expect(stored?.hasPrefix("v1.") == true && stored?.contains(created.secret) == false)

                let queued = try await client.call(.post, "/api/webhooks/\(created.webhook.id)/test")
                #expect(queued.status == .accepted, "\(queued.body)")
                let delivery = try decodeJSON(WebhookDelivery.self, queued.body)
                #expect(delivery.status == .pending && delivery.event == "test")

                // The first answer is a 500: the same delivery comes again, after the backoff, and is then delivered.
                let twice = try await eventually(timeout: .seconds(10)) { await receiver.seen.count >= 2 }
                #expect(twice != nil)
                let seen = await receiver.seen
                #expect(seen.count == 2)
                for request in seen {
                    #expect(request.signatureVerifies(secret: created.secret), "\(request.headers)")
                    #expect(!request.signatureVerifies(secret: created.secret + "x"))
                    #expect(request.event == "test" && request.delivery == delivery.id)
                    #expect(request.headers["content-type"] == "application/json")
                    #expect(request.json?["type"] as? String == "test" && (request.json?["data"] as? [String: Any])?["webhookId"] as? String == created.webhook.id)
                    #expect(!request.body.contains(created.secret) && !request.headers.values.contains { $0.contains(created.secret) })
                }
                #expect(seen[0].body == seen[1].body)

                let log = try await eventually(timeout: .seconds(30)) {
                    try await Self.deliveries(client, created.webhook.id).first?.status == .delivered
                }
                #expect(log != nil)
                // Several poll intervals later nothing more was sent.
                try await Task.sleep(for: .milliseconds(600))
                #expect(await receiver.seen.count == 2)
                let entry = try #require(try await Self.deliveries(client, created.webhook.id).first)
                #expect(entry.id == delivery.id && entry.status == .delivered && entry.attempts == 2 && entry.lastStatusCode == 200)
                #expect(entry.deliveredAt != nil && entry.nextAttemptAt == nil)

                let audit = try await client.call(.get, "/api/audit?action=create")
                #expect(audit.body.contains(created.webhook.id) && !audit.body.contains(created.secret))
                #expect(try await client.call(.delete, "/api/webhooks/\(created.webhook.id)").status == .noContent)
                #expect(try await client.call(.get, "/api/webhooks/\(created.webhook.id)/deliveries").status == .notFound)
                #expect(try await client.call(.delete, "/api/webhooks/\(created.webhook.id)").status == .notFound)
                let deleted = try await client.call(.get, "/api/audit?action=delete")
                #expect(deleted.body.contains(created.webhook.id))
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func aSlackWebhookGetsATextBodyAndADeliveryThatKeepsFailingIsMarkedFailed(database: TestDatabase) async throws {
        try await WebhookReceiver.with(failures: 100) { url, receiver in
            try await TestApp.run(
                databaseURL: try await database.makeURL(), extra: Self.environment.merging(["WEBHOOK_MAX_ATTEMPTS": "2"]) { _, new in new }, live: true
            ) { client, _ in
                let created = try await Self.create(client, url: url, events: ["circuit.open"], format: "slack")
                #expect(created.webhook.format == .slack)
                #expect(try await client.call(.post, "/api/webhooks/\(created.webhook.id)/test").status == .accepted)
                let failed = try await eventually(timeout: .seconds(10)) {
                    try await Self.deliveries(client, created.webhook.id).first?.status == .failed
                }
                #expect(failed != nil)
                let entry = try #require(try await Self.deliveries(client, created.webhook.id).first)
                #expect(entry.attempts == 2 && entry.lastStatusCode == 500 && entry.lastError == "HTTP 500")
                try await Task.sleep(for: .milliseconds(400))
                let seen = await receiver.seen
                #expect(seen.count == 2)
                let first = try #require(seen.first)
                #expect(first.signatureVerifies(secret: created.secret))
                #expect(first.json?.keys.sorted() == ["text"])
                #expect((first.json?["text"] as? String)?.contains("a test of webhook \(created.webhook.id)") == true)
            }
        }
    }

    /// A webhook URL follows the rules of a provider base URL: what one refuses, the other refuses.
    @Test(arguments: TestDatabase.available)
    func aBadURLIsRefusedAsABadBaseURLIsAndOnlyAdminsManageWebhooks(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: Self.environment) { client, _ in
            for bad in ["ftp://example.com/hook", "https://user:pass@example.com/hook", "example.com/hook", "http:///hook", "http://exa mple.com", "unix:///tmp/s"] {
                let refused = try await client.call(.post, "/api/webhooks", json: #"{"url": "\#(bad)", "events": ["budget.exceeded"]}"#)
                #expect(refused.status == .badRequest, "\(bad): \(refused.body)")
                let error = try decodeJSON(ErrorBody.self, refused.body).error
                #expect(error.code == "invalid_field" && error.message.hasPrefix("url:"), "\(bad): \(error.message)")
                #expect(error.message == "url: " + (EndpointURL.problem(bad) ?? "accepted"))
                let model = #"{"name": "m-\#(UUID().uuidString)", "provider": "openai", "modelId": "x", "providerSettings": {"baseURL": "\#(bad)"}}"#
                #expect(try await client.call(.post, "/api/models", json: model).status == .badRequest, "\(bad)")
            }
            for (body, field) in [
                (#"{"url": "https://example.com/h"}"#, "events"), (#"{"url": "https://example.com/h", "events": []}"#, "events"),
                (#"{"url": "https://example.com/h", "events": ["test"]}"#, "events"), (#"{"url": "https://example.com/h", "events": ["nope"]}"#, "events"),
                (#"{"url": "https://example.com/h", "events": ["key.invalid"], "format": "xml"}"#, "format"), (#"{"events": ["key.invalid"]}"#, "url"),
            ] {
                let refused = try await client.call(.post, "/api/webhooks", json: body)
                #expect(refused.status == .badRequest && refused.body.contains("\(field):"), "\(body): \(refused.body)")
            }
            let user = try await ConsoleSecurityTests.userToken(client, userId: "una")
            #expect(try await client.call(.post, "/api/webhooks", token: user, json: #"{"url": "https://example.com/h", "events": ["key.invalid"]}"#).status == .forbidden)
            #expect(try await client.call(.get, "/api/webhooks", token: user).status == .forbidden)
            #expect(try await client.call(.get, "/api/webhooks", token: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/api/webhooks/nope/deliveries").status == .notFound)
            #expect(try await client.call(.post, "/api/webhooks/nope/test").status == .notFound)
            #expect(try decodeJSON([Webhook].self, try await client.call(.get, "/api/webhooks").body).isEmpty)
        }
    }

    /// A real call crosses the soft threshold (`budget.threshold`), later calls are refused (`budget.exceeded`):
    /// each alert once, however many calls are refused.
    @Test(arguments: TestDatabase.available)
    func budgetAlertsComeFromRealCallsOncePerPeriod(database: TestDatabase) async throws {
        try await WebhookReceiver.with { url, receiver in
            try await GatewayHarness.run(database: database, extra: TrafficTest.environment.merging(Self.environment) { _, new in new }) { client, _, _ in
                let created = try await Self.create(client, url: url, events: ["budget.threshold", "budget.exceeded"])
                let budget = try decodeJSON(Budget.self, try await client.call(.post, "/api/budgets", json: #"{"userId": "cy", "period": "day", "maxTokens": 50}"#).body)
                let model = GatewayHarness.modelName(.openai)
                var refused = 0
                for _ in 0..<8 {
                    if try await TrafficTest.chat(client, model: model, user: "cy").status == .tooManyRequests { refused += 1 }
                }
                #expect(refused == 3)
                let both = try await eventually(timeout: .seconds(10)) {
                    let first = await receiver.events("budget.threshold"), second = await receiver.events("budget.exceeded")
                    return !first.isEmpty && !second.isEmpty
                }
                #expect(both != nil)
                try await Task.sleep(for: .milliseconds(500))
                let threshold = await receiver.events("budget.threshold")
                let exceeded = await receiver.events("budget.exceeded")
                #expect(threshold.count == 1 && exceeded.count == 1)
                for alert in threshold + exceeded {
                    #expect(alert.signatureVerifies(secret: created.secret))
                    let data = try #require(alert.json?["data"] as? [String: Any])
                    #expect(data["budgetId"] as? String == budget.id && data["userId"] as? String == "cy" && data["period"] as? String == "day")
                }
                #expect((threshold.first?.json?["data"] as? [String: Any])?["softThreshold"] as? Double == 0.8)
                #expect((exceeded.first?.json?["data"] as? [String: Any])?["periodEnd"] is String)
                let log = try await Self.deliveries(client, created.webhook.id)
                #expect(Set(log.map(\.event)) == ["budget.threshold", "budget.exceeded"] && log.allSatisfy { $0.status == .delivered })
            }
        }
    }

    /// A circuit opening and a stored key a provider rejects each reach a webhook subscribed to them, and only it.
    @Test(arguments: TestDatabase.available)
    func circuitAndKeyAlertsReachTheirSubscribers(database: TestDatabase) async throws {
        let environment = TrafficTest.environment.merging(Self.environment) { _, new in new }
            .merging(["UPSTREAM_RETRIES": "0", "CIRCUIT_FAILURES": "1", "CIRCUIT_OPEN_MS": "60000"]) { _, new in new }
        try await WebhookReceiver.with { url, receiver in
            try await GatewayHarness.run(database: database, extra: environment) { client, _, _ in
                let circuits = try await Self.create(client, url: url + "?for=circuits", events: ["circuit.open"])
                let keys = try await Self.create(client, url: url + "?for=keys", events: ["key.invalid"])
                let failing = try await TrafficTest.model(client, upstream: "fake-error-500")
                for _ in 0..<3 { _ = try await TrafficTest.chat(client, model: failing) }
                let stored = try await VaultAPI.store(client, userId: "kate", key: "sk-kate-own-key-0123456789")
                let rejecting = try await TrafficTest.model(client, upstream: "fake-error-401")
                _ = try await TrafficTest.chat(client, model: rejecting, user: "kate")

                let both = try await eventually(timeout: .seconds(10)) {
                    let first = await receiver.events("circuit.open"), second = await receiver.events("key.invalid")
                    return !first.isEmpty && !second.isEmpty
                }
                #expect(both != nil)
                try await Task.sleep(for: .milliseconds(400))
                // Once per opening: the refused calls while open send nothing more.
                let opened = await receiver.events("circuit.open").filter { $0.body.contains("fake-error-500") }
                #expect(opened.count == 1 && opened.allSatisfy { $0.signatureVerifies(secret: circuits.secret) })
                let circuitData = try #require(opened.first?.json?["data"] as? [String: Any])
                #expect(circuitData["upstreamModel"] as? String == "fake-error-500" && circuitData["provider"] as? String == "openai")
                let invalid = await receiver.events("key.invalid")
                #expect(invalid.count == 1 && invalid.allSatisfy { $0.signatureVerifies(secret: keys.secret) })
                let keyData = try #require(invalid.first?.json?["data"] as? [String: Any])
                #expect(keyData["keyId"] as? String == stored.id && keyData["userId"] as? String == "kate" && keyData["upstreamStatus"] as? Int == 401)
                #expect(!(invalid.first?.body.contains("sk-kate-own-key") ?? true))
                #expect(try await Self.deliveries(client, circuits.webhook.id).map(\.event) == ["circuit.open"])
                #expect(try await Self.deliveries(client, keys.webhook.id).map(\.event) == ["key.invalid"])
            }
        }
    }

    /// Two instances polling one database: a due delivery is claimed by one of them only.
    @Test(arguments: TestDatabase.available)
    func aDeliveryIsClaimedByOneInstanceOnly(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: Self.environment.merging(["WEBHOOK_POLL_MS": "600000"]) { _, new in new }) {
            client, components in
            let created = try await Self.create(client, url: "http://127.0.0.1:9/hook", events: ["key.invalid"])
            #expect(try await client.call(.post, "/api/webhooks/\(created.webhook.id)/test").status == .accepted)
            let now = Clock.nowMillis() + 1
            let due = try await components.database.run { try await WebhookDeliveryRows.due(now: now, limit: 10, on: $0) }
            let item = try #require(due.first)
            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await components.database.run { try await WebhookDeliveryRows.claim(item, now: now, leaseUntil: now + 60_000, on: $0) } }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(claims.filter { $0 }.count == 1)
            #expect(try await components.database.run { try await WebhookDeliveryRows.due(now: now, limit: 10, on: $0) }.isEmpty)
        }
    }

    @Test func backoffDoublesUpToItsMaximumWithoutTrapping() {
        var settings = WebhookSettings()
        settings.retryBaseMillis = 1_000
        settings.retryMaxMillis = 300_000
        #expect((1...6).map { settings.backoffMillis(afterAttempt: $0) } == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000])
        #expect(settings.backoffMillis(afterAttempt: 10) == 300_000 && settings.backoffMillis(afterAttempt: Int.max) == 300_000)
        settings.retryBaseMillis = .max
        #expect(settings.backoffMillis(afterAttempt: 3) == 300_000)
        #expect(throws: ConfigurationError.self) { try WebhookSettings(environment: ["WEBHOOK_RETRY_BASE_MS": "-1"]) }
    }
}

extension CreatedWebhook {
    /// The create answer as a client reads it.
    struct Decoded: Decodable {
        var webhook: Webhook
        var secret: String
    }
}
