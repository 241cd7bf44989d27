import Foundation
import SQLKit

/// The SQL of the `webhooks` table, and ``enqueue(_:on:)``: how an event becomes delivery rows.
package enum WebhookRows {
    /// Most webhooks an installation keeps: every event reads them all, so the list stays small.
    package static let maxWebhooks = 100

    package struct Stored: Sendable {
        package var id: String
        package var url: String
        package var format: Webhook.Format
        package var secretCiphertext: String
    }

    package static func insert(
        id: String, url: String, events: [WebhookEvent.Kind], format: Webhook.Format, secretCiphertext: String, keyVersion: Int, on sql: any SQLDatabase
    ) async throws -> Webhook? {
        let now = Clock.nowMillis()
        try await sql.raw("""
            INSERT INTO webhooks (id, url, events, format, secret_ciphertext, key_version, active, created_at, updated_at) \
            VALUES (\(bind: id), \(bind: url), \(bind: Webhook.stored(events)), \(bind: format.rawValue), \(bind: secretCiphertext), \
            \(bind: Int64(keyVersion)), \(bind: true), \(bind: now), \(bind: now))
            """).run()
        return try await find(id: id, on: sql)
    }

    package static func count(on sql: any SQLDatabase) async throws -> Int {
        let row = try await sql.raw("SELECT COUNT(*) AS n FROM webhooks").first()
        return Int(clamping: try row?.decode(column: "n", as: Int64.self) ?? 0)
    }

    package static func find(id: String, on sql: any SQLDatabase) async throws -> Webhook? {
        try await sql.raw("SELECT * FROM webhooks WHERE id = \(bind: id)").first().map(Webhook.init(row:))
    }

    package static func list(on sql: any SQLDatabase) async throws -> [Webhook] {
        try await sql.raw("SELECT * FROM webhooks ORDER BY created_at, id LIMIT \(bind: Int64(maxWebhooks))").all().map(Webhook.init(row:))
    }

    /// Deletes the webhook and (by the foreign key) its delivery log; the deleted webhook, or nil.
    package static func delete(id: String, on sql: any SQLDatabase) async throws -> Webhook? {
        guard let webhook = try await find(id: id, on: sql) else { return nil }
        // SQLite enforces the cascade only with `foreign_keys` on; deleting the log first holds either way.
        try await sql.raw("DELETE FROM webhook_deliveries WHERE webhook_id = \(bind: id)").run()
        try await sql.raw("DELETE FROM webhooks WHERE id = \(bind: id)").run()
        return webhook
    }

    /// Queues `event` for every active webhook subscribed to it (or only `webhookId`), one delivery row each,
    /// due at once; returns the delivery ids. Call it in the transaction of the change the event reports,
    /// so the alert exists exactly when the change committed; the dispatcher sends it off the call's path.
    @discardableResult
    package static func enqueue(_ event: WebhookEvent, webhookId: String? = nil, on sql: any SQLDatabase) async throws -> [String] {
        let rows: [any SQLRow]
        if let webhookId {
            rows = try await sql.raw("SELECT id, events, format FROM webhooks WHERE id = \(bind: webhookId)").all()
        } else {
            rows = try await sql.raw("SELECT id, events, format FROM webhooks WHERE active = \(bind: true) LIMIT \(bind: Int64(maxWebhooks))").all()
        }
        var ids: [String] = []
        for row in rows {
            let id = try row.decode(column: "id", as: String.self)
            let events = Webhook.events(stored: try row.decode(column: "events", as: String.self))
            guard webhookId != nil || events.contains(event.kind) else { continue }
            let format = Webhook.Format(rawValue: try row.decode(column: "format", as: String.self)) ?? .json
            let deliveryId = RandomIdentifier.timeOrderedUUID()
            try await WebhookDeliveryRows.insert(id: deliveryId, webhookId: id, event: event, body: event.body(format: format), on: sql)
            ids.append(deliveryId)
        }
        return ids
    }

    /// Queues `budget.threshold` for a budget whose crossing was just recorded (in that transaction).
    package static func enqueueBudgetThreshold(budgetId: String, on sql: any SQLDatabase) async throws {
        guard let row = try await sql.raw("SELECT user_id, token_id, period, soft_threshold FROM budgets WHERE id = \(bind: budgetId)").first()
        else { return }
        let event = WebhookEvent.budgetThreshold(
            budgetId: budgetId, userId: try row.decode(column: "user_id", as: String?.self), tokenId: try row.decode(column: "token_id", as: String?.self),
            period: try row.decode(column: "period", as: String.self), softThreshold: try row.decode(column: "soft_threshold", as: Double.self))
        try await enqueue(event, on: sql)
    }

    // MARK: Master-key rotation

    package static func batchNotUnder(version: Int, after cursor: String, limit: Int, on sql: any SQLDatabase) async throws -> [(id: String, ciphertext: String)] {
        try await sql.raw("""
            SELECT id, secret_ciphertext FROM webhooks WHERE key_version <> \(bind: Int64(version)) AND id > \(bind: cursor) \
            ORDER BY id LIMIT \(bind: Int64(limit))
            """).all().map { (try $0.decode(column: "id", as: String.self), try $0.decode(column: "secret_ciphertext", as: String.self)) }
    }

    /// Replaces a ciphertext only if it is still the one read; true when written.
    package static func replaceSecret(id: String, from old: String, to new: String, version: Int, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("""
            UPDATE webhooks SET secret_ciphertext = \(bind: new), key_version = \(bind: Int64(version)) \
            WHERE id = \(bind: id) AND secret_ciphertext = \(bind: old) RETURNING id
            """).first() != nil
    }

    /// How many secrets each master-key version still protects.
    package static func countsByVersion(on sql: any SQLDatabase) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for row in try await sql.raw("SELECT key_version, COUNT(*) AS n FROM webhooks GROUP BY key_version").all() {
            counts[Int(try row.decode(column: "key_version", as: Int64.self))] = Int(try row.decode(column: "n", as: Int64.self))
        }
        return counts
    }
}
