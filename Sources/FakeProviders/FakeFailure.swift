/// The failures every fake can answer with; each provider renders them in its own error shape.
enum FakeFailure: Error, Sendable {
    case missingKey
    /// Carries the key received so the message contains it, as real providers do, to test the gateway's key scrubbing.
    case invalidKey(String)
    /// `error-403`: the key is known but may not use this model (Gemini's PERMISSION_DENIED, a restricted key).
    case forbidden
    case badRequest(String)
    case notFound(String)
    case serverError
    /// `retryAfter`: the `Retry-After` header's text.
    case rateLimited(retryAfter: String)

    /// Seconds announced in `Retry-After` for `rate-limit` models.
    static let retryAfterSeconds = 7

    /// The rate-limit refusal for `model`: `Retry-After: 7`, or a `rate-limit-after-<text>` model's own text.
    static func rateLimited(model: String) -> FakeFailure {
        .rateLimited(retryAfter: FakeHostile.retryAfter(model: model) ?? String(retryAfterSeconds))
    }
}
