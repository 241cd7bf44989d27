import Foundation

/// One gateway call as recorded in `usage_records`: who, which model and key, tokens, cost, latency, outcome.
public struct UsageRecord: Sendable, Equatable {
    public var id: String = UUID().uuidString.lowercased()
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
    /// Upstream attempts the call took (retries and fallbacks included).
    public var attempts: Int = 1
    /// The model the client asked for; `model` is the one that answered (a fallback may have).
    public var requestedModel: String?

    public var totalTokens: Int { promptTokens + completionTokens }

    public init(userId: String?, tokenId: String?, model: String, provider: ProviderKind, status: Int) {
        self.userId = userId
        self.tokenId = tokenId
        self.model = model
        self.provider = provider
        self.status = status
    }
}
