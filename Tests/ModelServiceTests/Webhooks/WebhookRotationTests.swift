import Foundation
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A webhook's signing secret is sealed by the vault's keyring: master-key rotation moves it to the new
/// version (so the old one can be retired), and deliveries are still signed with the same secret afterwards.
@Suite struct WebhookRotationTests {
    @Test(arguments: TestDatabase.available)
    func rotationReencryptsWebhookSecretsAndDeliveriesStaySigned(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let first = WebhookTests.environment.merging(["ENCRYPTION_SECRET": VaultAPI.secretA]) { _, new in new }
        let rotating = WebhookTests.environment.merging(["ENCRYPTION_SECRET": VaultAPI.secretB, "ENCRYPTION_SECRET_PREVIOUS": VaultAPI.secretA]) { _, new in new }
        let after = WebhookTests.environment.merging(["ENCRYPTION_SECRET": VaultAPI.secretB]) { _, new in new }
        try await WebhookReceiver.with { receiverURL, receiver in
            let created = try await TestApp.run(databaseURL: url, extra: first) { client, _ in
                try await WebhookTests.create(client, url: receiverURL, events: ["key.invalid"])
            }
            try await TestApp.run(databaseURL: url, extra: rotating) { _, components in
                let before = try await components.database.run { try await WebhookRows.countsByVersion(on: $0) }
                #expect(before == [1: 1])
                let report = try await KeyRotation(database: components.database, keyring: try components.vault.cipher().keyring).run()
                #expect(report.reencrypted == 1 && report.undecryptable.isEmpty && report.retiredVersions == [1])
                #expect(try await components.database.run { try await WebhookRows.countsByVersion(on: $0) } == [2: 1])
            }
            try await TestApp.run(databaseURL: url, extra: after, live: true) { client, _ in
                #expect(try await client.call(.post, "/api/webhooks/\(created.webhook.id)/test").status == .accepted)
                let sent = try await eventually(timeout: .seconds(10)) { await !receiver.seen.isEmpty }
                #expect(sent != nil)
                let seen = await receiver.seen
                #expect(seen.count == 1 && seen.allSatisfy { $0.signatureVerifies(secret: created.secret) })
            }
        }
    }
}
