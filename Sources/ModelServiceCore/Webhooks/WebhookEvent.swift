import Foundation

/// One alert, as a webhook receives it: `{"id", "type", "createdAt", "data": {...}}`, or for a Slack-format
/// webhook `{"text": "<one human line>"}`. Built from ids, names and numbers only: never a key or a secret.
public struct WebhookEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// A budget's spending crossed its soft threshold (once per budget and period).
        case budgetThreshold = "budget.threshold"
        /// A call was refused with `budget_exceeded` (once per budget and period).
        case budgetExceeded = "budget.exceeded"
        /// A provider rejected a stored key, which is now marked invalid.
        case keyInvalid = "key.invalid"
        /// A circuit breaker opened (once per opening, per instance).
        case circuitOpen = "circuit.open"
        /// Sent on request (`POST /api/webhooks/{id}/test`) to the one webhook asked.
        case test

        /// The kinds a webhook can subscribe to (`test` goes to whichever webhook asks for it).
        public static let subscribable: [Kind] = [.budgetThreshold, .budgetExceeded, .keyInvalid, .circuitOpen]
    }

    /// Longest text of any one data field: a base URL (2 KiB) fits, and a payload stays a few KiB.
    package static let maxFieldBytes = EndpointURL.maxBytes

    public let id: String
    public let kind: Kind
    public let createdAt: Int64
    public let data: [String: JSONValue]
    /// One line for people (the Slack body).
    public let summary: String

    package init(kind: Kind, data: [String: JSONValue], summary: String, id: String = RandomIdentifier.uuid(), createdAt: Int64 = Clock.nowMillis()) {
        self.id = id
        self.kind = kind
        self.createdAt = createdAt
        self.data = data.mapValues(Self.bounded)
        self.summary = String(decoding: summary.utf8.prefix(Self.maxFieldBytes * 2), as: UTF8.self)
    }

    /// The body sent to a webhook of `format`, kept as is in its delivery row and signed on each attempt.
    package func body(format: Webhook.Format) -> String {
        let object: [String: JSONValue]
        switch format {
        case .json:
            object = ["id": .string(id), "type": .string(kind.rawValue), "createdAt": .string(Clock.iso8601(millis: createdAt)), "data": .object(data)]
        case .slack:
            object = ["text": .string("model-service: \(summary)")]
        }
        // Encoding a tree of strings and finite numbers cannot fail.
        let bytes = (try? ProviderJSON.sortedEncoder().encode(JSONValue.object(object))) ?? Data("{}".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func bounded(_ value: JSONValue) -> JSONValue {
        guard case .string(let text) = value, text.utf8.count > maxFieldBytes else { return value }
        return .string(String(decoding: text.utf8.prefix(maxFieldBytes), as: UTF8.self))
    }

    private static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    // MARK: The events

    package static func budgetThreshold(budgetId: String, userId: String?, tokenId: String?, period: String, softThreshold: Double) -> WebhookEvent {
        let owner = userId.map { "user '\($0)'" } ?? "access token \(tokenId ?? "")"
        let percent = Int((softThreshold * 100).rounded())
        return WebhookEvent(
            kind: .budgetThreshold,
            data: [
                "budgetId": .string(budgetId), "userId": text(userId), "tokenId": text(tokenId), "period": .string(period),
                "softThreshold": .number(softThreshold),
            ],
            summary: "the \(period) budget \(budgetId) of \(owner) reached \(percent)% of its limit")
    }

    package static func budgetExceeded(budgetId: String, userId: String?, tokenId: String?, period: String, periodEnd: Int64?) -> WebhookEvent {
        let owner = userId.map { "user '\($0)'" } ?? "access token \(tokenId ?? "")"
        return WebhookEvent(
            kind: .budgetExceeded,
            data: [
                "budgetId": .string(budgetId), "userId": text(userId), "tokenId": text(tokenId), "period": .string(period),
                "periodEnd": text(periodEnd.map(Clock.iso8601(millis:))),
            ],
            summary: "the \(period) budget \(budgetId) of \(owner) is used up; calls are refused with budget_exceeded")
    }

    package static func keyInvalid(keyId: String, userId: String?, provider: String, status: Int) -> WebhookEvent {
        WebhookEvent(
            kind: .keyInvalid,
            data: ["keyId": .string(keyId), "userId": text(userId), "provider": .string(provider), "upstreamStatus": .number(Double(status))],
            summary: "the \(provider) key \(keyId)\(userId.map { " of user '\($0)'" } ?? " (shared)") was rejected (\(status)) and is marked invalid")
    }

    package static func circuitOpen(provider: String, baseURL: String, upstreamModel: String, lastError: String?, retryAfterSeconds: Int) -> WebhookEvent {
        WebhookEvent(
            kind: .circuitOpen,
            data: [
                "provider": .string(provider), "baseURL": .string(baseURL), "upstreamModel": .string(upstreamModel), "lastError": text(lastError),
                "retryAfterSeconds": .number(Double(retryAfterSeconds)),
            ],
            summary: "the circuit of \(provider) \(upstreamModel) at \(baseURL) opened\(lastError.map { " (\($0))" } ?? ""); calls fall back or are refused")
    }

    package static func test(webhookId: String) -> WebhookEvent {
        WebhookEvent(kind: .test, data: ["webhookId": .string(webhookId)], summary: "a test of webhook \(webhookId)")
    }
}
