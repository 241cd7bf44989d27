import Foundation
import SQLKit

/// An alert webhook as the API shows it: where events go and which ones. Its signing secret is not
/// here: it is shown once, when the webhook is created, and stored encrypted.
public struct Webhook: Sendable, Codable, Equatable {
    public enum Format: String, Sendable, Codable, CaseIterable {
        /// The event as JSON: `{"id", "type", "createdAt", "data"}`.
        case json
        /// A Slack incoming-webhook body: `{"text": "..."}`.
        case slack
    }

    public var id: String
    public var url: String
    public var events: [WebhookEvent.Kind]
    public var format: Format
    public var active: Bool
    public var createdAt: String
    public var updatedAt: String

    package init(row: any SQLRow) throws {
        id = try row.decode(column: "id", as: String.self)
        url = try row.decode(column: "url", as: String.self)
        events = Self.events(stored: try row.decode(column: "events", as: String.self))
        format = Format(rawValue: try row.decode(column: "format", as: String.self)) ?? .json
        active = try row.decode(column: "active", as: Bool.self)
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        updatedAt = Clock.iso8601(millis: try row.decode(column: "updated_at", as: Int64.self))
    }

    /// The stored form of a subscription: the event names joined by commas.
    package static func stored(_ events: [WebhookEvent.Kind]) -> String {
        events.map(\.rawValue).joined(separator: ",")
    }

    /// Names no longer known are skipped, so a row written by a newer version still reads.
    package static func events(stored text: String) -> [WebhookEvent.Kind] {
        text.split(separator: ",").compactMap { WebhookEvent.Kind(rawValue: String($0)) }
    }
}

/// What `POST /api/webhooks` answers: the webhook, and its signing secret this once.
public struct CreatedWebhook: Sendable, Encodable {
    public var webhook: Webhook
    /// The HMAC-SHA256 key of `X-Model-Service-Signature`; written in plaintext here only.
    public var secret: String
}
