import Foundation
import Logging
import SQLKit

/// Alert webhooks for the API and the console: create (the signing secret made here, stored encrypted by the
/// vault's cipher and shown once), list, delete, the delivery log, and a test event. Changes are audited.
public final class Webhooks: Sendable {
    /// Most delivery-log rows one listing returns.
    public static let maxListedDeliveries = 200

    package let database: Database
    private let vault: KeyVault

    public init(database: Database, vault: KeyVault) {
        self.database = database
        self.vault = vault
    }

    /// The checked fields of a new webhook; each refusal names its field, as the API and the console show it.
    public struct Fields: Sendable {
        public var url: String
        public var events: [WebhookEvent.Kind]
        public var format: Webhook.Format

        /// `url` follows the rules of a provider base URL; `events` are names from ``WebhookEvent/Kind/subscribable``.
        public init(url: String?, events: [String]?, format: String?) throws(ServiceError) {
            guard let url, !url.isEmpty else { throw .invalidField("url", "is required") }
            self.url = try EndpointURL.check(url, field: "url")
            guard let events, !events.isEmpty else {
                throw .invalidField("events", "name at least one of \(Self.eventNames)")
            }
            guard events.count <= 20 else { throw .invalidField("events", "must name at most 20 events") }
            var kinds: [WebhookEvent.Kind] = []
            for name in events {
                guard let kind = WebhookEvent.Kind(rawValue: name.lowercased()), WebhookEvent.Kind.subscribable.contains(kind) else {
                    throw .invalidField("events", "'\(String(name.prefix(60)))' is not one of \(Self.eventNames)")
                }
                if !kinds.contains(kind) { kinds.append(kind) }
            }
            self.events = kinds
            if let format, !format.isEmpty {
                guard let value = Webhook.Format(rawValue: format.lowercased()) else { throw .invalidField("format", "must be json or slack") }
                self.format = value
            } else {
                self.format = .json
            }
        }

        static var eventNames: String { WebhookEvent.Kind.subscribable.map(\.rawValue).joined(separator: ", ") }
    }

    public func create(_ fields: Fields, actor: AuditLog.Actor) async throws -> CreatedWebhook {
        let cipher = try vault.cipher()
        let id = RandomIdentifier.uuid()
        let secret = WebhookSignature.newSecret()
        let ciphertext = try cipher.encrypt(secret, binding: WebhookSignature.binding(webhookId: id))
        let version = cipher.keyring.current.version
        let webhook = try await database.transaction { sql -> Webhook in
            guard try await WebhookRows.count(on: sql) < WebhookRows.maxWebhooks else {
                throw ServiceError.conflict("There are \(WebhookRows.maxWebhooks) webhooks already; delete one first.")
            }
            guard
                let webhook = try await WebhookRows.insert(
                    id: id, url: fields.url, events: fields.events, format: fields.format, secretCiphertext: ciphertext, keyVersion: version, on: sql)
            else { throw ServiceError(.internalError, "The new webhook could not be read back.") }
            try await AuditLog.write(.create, actor: actor, subject: Self.subject(id), result: "ok", detail: Self.detail(webhook), on: sql)
            return webhook
        }
        return CreatedWebhook(webhook: webhook, secret: secret.reveal)
    }

    public func list() async throws -> [Webhook] {
        try await database.run { try await WebhookRows.list(on: $0) }
    }

    public func find(id: String) async throws -> Webhook? {
        try await database.run { try await WebhookRows.find(id: id, on: $0) }
    }

    /// Deletes the webhook and its delivery log; false when there is no such webhook.
    public func delete(id: String, actor: AuditLog.Actor) async throws -> Bool {
        try await database.transaction { sql -> Bool in
            guard let webhook = try await WebhookRows.delete(id: id, on: sql) else { return false }
            try await AuditLog.write(.delete, actor: actor, subject: Self.subject(id), result: "ok", detail: Self.detail(webhook), on: sql)
            return true
        }
    }

    /// One webhook's deliveries (nil when there is no such webhook), or every webhook's, newest first.
    public func deliveries(webhookId: String?, limit: Int = 50) async throws -> [WebhookDelivery]? {
        let bounded = min(max(limit, 1), Self.maxListedDeliveries)
        return try await database.run { sql -> [WebhookDelivery]? in
            if let webhookId, try await WebhookRows.find(id: webhookId, on: sql) == nil { return nil }
            return try await WebhookDeliveryRows.list(webhookId: webhookId, limit: bounded, on: sql)
        }
    }

    /// Queues a `test` event for this webhook; its delivery, or nil when there is no such webhook.
    public func sendTest(id: String) async throws -> WebhookDelivery? {
        try await database.transaction { sql -> WebhookDelivery? in
            guard let deliveryId = try await WebhookRows.enqueue(.test(webhookId: id), webhookId: id, on: sql).first else { return nil }
            return try await WebhookDeliveryRows.find(id: deliveryId, on: sql)
        }
    }

    private static func subject(_ id: String) -> AuditLog.Subject {
        AuditLog.Subject(type: "webhook", id: id)
    }

    /// The host only: a webhook URL's path can be its credential (Slack's are).
    private static func detail(_ webhook: Webhook) -> String {
        let host = URLComponents(string: webhook.url)?.host ?? "?"
        return "webhook to \(host) for \(Webhook.stored(webhook.events)) (\(webhook.format.rawValue))"
    }
}
