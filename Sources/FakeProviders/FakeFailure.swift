/// The failures every fake can answer with; each provider renders them in its own error shape.
enum FakeFailure: Error, Sendable {
    case missingKey
    /// Carries the key received so the message contains it, as real providers do, to test the gateway's key scrubbing.
    case invalidKey(String)
    case badRequest(String)
    case notFound(String)
    case serverError
    case rateLimited

    /// Seconds announced in `Retry-After` for `rate-limit` models.
    static let retryAfterSeconds = 7
}
