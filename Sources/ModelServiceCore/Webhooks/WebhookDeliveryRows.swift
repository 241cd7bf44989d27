import Foundation
import SQLKit

/// The SQL of `webhook_deliveries`: rows queued by events, claimed and settled by the dispatcher.
///
/// A claim is one conditional UPDATE on (id, attempts, due): of several instances polling the same row only
/// one matches (PostgreSQL re-checks the condition after the winner's row lock), and the claim pushes the row's
/// `next_attempt_at` past the send's timeout, so a crashed sender's delivery is picked up again afterwards.
/// The outcome is written only while `attempts` is still the claimed one.
package enum WebhookDeliveryRows {
    /// A due delivery with what sending it needs.
    package struct Due: Sendable {
        package var id: String
        package var webhookId: String
        package var event: String
        package var payload: String
        package var attempts: Int
        package var url: String
        package var secretCiphertext: String
    }

    /// Longest `last_error` kept: a label, not a story.
    package static let maxErrorBytes = 200

    package static func insert(id: String, webhookId: String, event: WebhookEvent, body: String, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, next_attempt_at, created_at) \
            VALUES (\(bind: id), \(bind: webhookId), \(bind: event.kind.rawValue), \(bind: body), \(bind: WebhookDelivery.Status.pending.rawValue), \
            \(bind: Int64(0)), \(bind: event.createdAt), \(bind: Clock.nowMillis()))
            """).run()
    }

    /// Pending deliveries due at `now` of active webhooks, the longest waiting first.
    package static func due(now: Int64, limit: Int, on sql: any SQLDatabase) async throws -> [Due] {
        try await sql.raw("""
            SELECT d.id, d.webhook_id, d.event, d.payload, d.attempts, w.url, w.secret_ciphertext \
            FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
            WHERE d.status = \(bind: WebhookDelivery.Status.pending.rawValue) AND d.next_attempt_at <= \(bind: now) AND w.active = \(bind: true) \
            ORDER BY d.next_attempt_at, d.id LIMIT \(bind: Int64(limit))
            """).all().map { row in
            Due(
                id: try row.decode(column: "id", as: String.self), webhookId: try row.decode(column: "webhook_id", as: String.self),
                event: try row.decode(column: "event", as: String.self), payload: try row.decode(column: "payload", as: String.self),
                attempts: Int(clamping: try row.decode(column: "attempts", as: Int64.self)), url: try row.decode(column: "url", as: String.self),
                secretCiphertext: try row.decode(column: "secret_ciphertext", as: String.self))
        }
    }

    /// Takes the delivery for one attempt; true when this caller won it.
    package static func claim(_ due: Due, now: Int64, leaseUntil: Int64, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("""
            UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = \(bind: leaseUntil) \
            WHERE id = \(bind: due.id) AND status = \(bind: WebhookDelivery.Status.pending.rawValue) \
            AND attempts = \(bind: Int64(due.attempts)) AND next_attempt_at <= \(bind: now) RETURNING id
            """).first() != nil
    }

    /// Records the outcome of attempt number `attempt`: delivered, pending again at `nextAttemptAt`, or failed.
    package static func settle(
        id: String, attempt: Int, status: WebhookDelivery.Status, statusCode: Int?, error: String?, nextAttemptAt: Int64, now: Int64,
        on sql: any SQLDatabase
    ) async throws {
        let shortError = error.map { String(decoding: $0.utf8.prefix(maxErrorBytes), as: UTF8.self) }
        try await sql.raw("""
            UPDATE webhook_deliveries SET status = \(bind: status.rawValue), last_status_code = \(bind: statusCode.map { Int64($0) }), \
            last_error = \(bind: shortError), next_attempt_at = \(bind: nextAttemptAt), \
            delivered_at = \(bind: status == .delivered ? Optional(now) : nil) \
            WHERE id = \(bind: id) AND attempts = \(bind: Int64(attempt)) AND status = \(bind: WebhookDelivery.Status.pending.rawValue)
            """).run()
    }

    package static func find(id: String, on sql: any SQLDatabase) async throws -> WebhookDelivery? {
        try await sql.raw("SELECT * FROM webhook_deliveries WHERE id = \(bind: id)").first().map(WebhookDelivery.init(row:))
    }

    /// One webhook's log (or every webhook's), newest first.
    package static func list(webhookId: String?, limit: Int, on sql: any SQLDatabase) async throws -> [WebhookDelivery] {
        if let webhookId {
            return try await sql.raw("""
                SELECT * FROM webhook_deliveries WHERE webhook_id = \(bind: webhookId) ORDER BY created_at DESC, id DESC LIMIT \(bind: Int64(limit))
                """).all().map(WebhookDelivery.init(row:))
        }
        return try await sql.raw("SELECT * FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT \(bind: Int64(limit))")
            .all().map(WebhookDelivery.init(row:))
    }

    /// Drops finished deliveries created before `cutoff`, so the log does not grow forever.
    package static func prune(before cutoff: Int64, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            DELETE FROM webhook_deliveries WHERE status <> \(bind: WebhookDelivery.Status.pending.rawValue) AND created_at < \(bind: cutoff)
            """).run()
    }
}
