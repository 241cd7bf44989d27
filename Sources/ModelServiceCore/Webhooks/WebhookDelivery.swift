import Foundation
import SQLKit

/// One event for one webhook: a row of the delivery log, which is also the outbox the dispatcher sends from.
public struct WebhookDelivery: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Waiting for its next attempt (or being sent now).
        case pending
        /// A 2xx answer: never sent again.
        case delivered
        /// Every attempt failed.
        case failed
    }

    public var id: String
    public var webhookId: String
    public var event: String
    public var status: Status
    public var attempts: Int
    /// When a pending delivery is next tried.
    public var nextAttemptAt: String?
    public var lastStatusCode: Int?
    /// A short label (`HTTP 500`, `timeout`, `connection failed`), never a secret or a response body.
    public var lastError: String?
    public var createdAt: String
    public var deliveredAt: String?
    /// The body as sent (signed anew on each attempt).
    public var payload: String

    package init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        webhookId = try row.decode(column: "webhook_id", as: String.self)
        event = try row.decode(column: "event", as: String.self)
        status = Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed
        attempts = Int(clamping: try row.decode(column: "attempts", as: Int64.self))
        let next = try row.decode(column: "next_attempt_at", as: Int64.self)
        nextAttemptAt = status == .pending ? Clock.iso8601(millis: next) : nil
        lastStatusCode = try row.decode(column: "last_status_code", as: Int64?.self).map { Int(clamping: $0) }
        lastError = try row.decode(column: "last_error", as: String?.self)
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        deliveredAt = try row.decode(column: "delivered_at", as: Int64?.self).map(Clock.iso8601(millis:))
        payload = try row.decode(column: "payload", as: String.self)
    }
}
