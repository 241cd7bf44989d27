import Foundation

/// One gateway call as recorded in `usage_records`: who, which model and key, tokens, cost, latency, outcome.
public struct UsageRecord: Sendable, Equatable, Codable {
    public var id: String = RandomIdentifier.timeOrderedUUID()
    public var at: Int64 = Clock.nowMillis()
    public var userId: String?
    public var tokenId: String?
    public var model: String
    public var provider: ProviderKind
    public var keyId: String?
    /// `user`, `shared` or `env`; nil when no key was needed (Ollama) or none was found.
    public var keySource: String?
    public var promptTokens: Int = 0
    public var completionTokens: Int = 0
    public var cost: Double = 0
    public var latencyMs: Int = 0
    public var status: Int
    public var streamed: Bool = false
    public var errorCode: String?
    /// The gateway's request id (`X-Request-Id`), to match a record with logs and the client's report.
    public var requestId: String?
    /// Upstream calls made for this client call (retries and fallbacks included).
    public var attempts: Int = 1
    /// True when the provider reported no token counts and they were estimated from the bytes.
    public var usageEstimated: Bool = false
    /// The model the client asked for; `model` is the one that answered (they differ after a fallback).
    public var requestedModel: String?

    public var totalTokens: Int { TokenCount.sum(promptTokens, completionTokens) }

    /// The record with every number in its range: records read back from a file are outside data,
    /// and their counts end up in every report's sums.
    package func bounded() -> UsageRecord {
        var record = self
        record.promptTokens = TokenCount.bounded(promptTokens)
        record.completionTokens = TokenCount.bounded(completionTokens)
        record.cost = cost.isFinite && cost >= 0 ? min(cost, 1_000_000_000) : 0
        record.latencyMs = max(0, latencyMs)
        record.attempts = Saturating.clamp(attempts, to: 0...1_000)
        return record
    }

    public init(userId: String?, tokenId: String?, model: String, provider: ProviderKind, status: Int) {
        self.userId = userId
        self.tokenId = tokenId
        self.model = model
        self.provider = provider
        self.status = status
    }
}
