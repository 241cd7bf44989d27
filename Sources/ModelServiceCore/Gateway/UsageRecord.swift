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
    /// `user`, `team`, `shared` or `env`; nil when no key was needed (Ollama) or none was found.
    public var keySource: String?
    /// The team the call was made for (its token's, or the one `X-Team-Id` named).
    public var teamId: String?
    /// The deployment of the model that answered (or was tried last).
    public var deploymentId: String?
    /// Every input token, the cached parts below included.
    public var promptTokens: Int = 0
    public var completionTokens: Int = 0
    /// Parts of `promptTokens` read from and written to the provider's prompt cache (5-minute and 1-hour writes).
    public var cacheReadTokens: Int = 0
    public var cacheWriteTokens: Int = 0
    public var cacheWrite1hTokens: Int = 0
    /// Part of `completionTokens`.
    public var reasoningTokens: Int = 0
    /// In USD at the answering model's prices when the call settled; 0 when the model had no prices (`priced` false).
    public var cost: Double = 0
    public var priced: Bool = true
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
    /// The budgets the call reserved on at admission (not a column): the budgets it settles on. Any
    /// other budget of its user or token that existed when it settled is charged when the record is
    /// written (a budget created on another instance this one had not seen yet).
    public var budgetIds: [String] = []

    public var totalTokens: Int { TokenCount.sum(promptTokens, completionTokens) }

    /// The record with every number in its range: records read back from a file are outside data,
    /// and their counts end up in every report's sums.
    package func bounded() -> UsageRecord {
        var record = self
        record.promptTokens = TokenCount.bounded(promptTokens)
        record.completionTokens = TokenCount.bounded(completionTokens)
        record.cacheReadTokens = TokenCount.bounded(cacheReadTokens)
        record.cacheWriteTokens = TokenCount.bounded(cacheWriteTokens)
        record.cacheWrite1hTokens = TokenCount.bounded(cacheWrite1hTokens)
        record.reasoningTokens = TokenCount.bounded(reasoningTokens)
        record.cost = cost.isFinite && cost >= 0 ? min(cost, 1_000_000_000) : 0
        record.latencyMs = max(0, latencyMs)
        record.attempts = Saturating.clamp(attempts, to: 0...1_000)
        record.budgetIds = budgetIds.prefix(64).filter { $0.utf8.count <= 64 }
        if let id = deploymentId, id.utf8.count > 100 { record.deploymentId = nil }
        if let id = teamId, id.utf8.count > 100 { record.teamId = nil }
        return record
    }

    /// Sets the token counts and their detail from the provider's usage.
    package mutating func setTokens(_ usage: Usage) {
        let detail = TokenDetail(usage)
        promptTokens = usage.promptTokens
        completionTokens = usage.completionTokens
        cacheReadTokens = detail.cacheRead
        cacheWriteTokens = detail.cacheWrite
        cacheWrite1hTokens = detail.cacheWrite1h
        reasoningTokens = detail.reasoning
    }

    /// The counts the record was priced from.
    package var usage: Usage {
        Usage(
            promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cacheReadTokens,
            cacheWriteTokens: cacheWriteTokens, cacheWrite1hTokens: cacheWrite1hTokens, reasoningTokens: reasoningTokens)
    }

    public init(userId: String?, tokenId: String?, model: String, provider: ProviderKind, status: Int) {
        self.userId = userId
        self.tokenId = tokenId
        self.model = model
        self.provider = provider
        self.status = status
    }
}

/// Reading a record back from the spill file (`usage-pending.jsonl`): fields added in later versions
/// (the token detail, `priced`) may be missing from lines an earlier version wrote, and take their defaults.
extension UsageRecord {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            userId: try c.decodeIfPresent(String.self, forKey: .userId), tokenId: try c.decodeIfPresent(String.self, forKey: .tokenId),
            model: try c.decode(String.self, forKey: .model), provider: try c.decode(ProviderKind.self, forKey: .provider),
            status: try c.decode(Int.self, forKey: .status))
        id = try c.decode(String.self, forKey: .id)
        at = try c.decode(Int64.self, forKey: .at)
        keyId = try c.decodeIfPresent(String.self, forKey: .keyId)
        keySource = try c.decodeIfPresent(String.self, forKey: .keySource)
        deploymentId = try c.decodeIfPresent(String.self, forKey: .deploymentId)
        teamId = try c.decodeIfPresent(String.self, forKey: .teamId)
        promptTokens = try c.decode(Int.self, forKey: .promptTokens)
        completionTokens = try c.decode(Int.self, forKey: .completionTokens)
        cacheReadTokens = try c.decodeIfPresent(Int.self, forKey: .cacheReadTokens) ?? 0
        cacheWriteTokens = try c.decodeIfPresent(Int.self, forKey: .cacheWriteTokens) ?? 0
        cacheWrite1hTokens = try c.decodeIfPresent(Int.self, forKey: .cacheWrite1hTokens) ?? 0
        reasoningTokens = try c.decodeIfPresent(Int.self, forKey: .reasoningTokens) ?? 0
        cost = try c.decode(Double.self, forKey: .cost)
        priced = try c.decodeIfPresent(Bool.self, forKey: .priced) ?? true
        latencyMs = try c.decode(Int.self, forKey: .latencyMs)
        streamed = try c.decode(Bool.self, forKey: .streamed)
        errorCode = try c.decodeIfPresent(String.self, forKey: .errorCode)
        requestId = try c.decodeIfPresent(String.self, forKey: .requestId)
        attempts = try c.decode(Int.self, forKey: .attempts)
        usageEstimated = try c.decode(Bool.self, forKey: .usageEstimated)
        requestedModel = try c.decodeIfPresent(String.self, forKey: .requestedModel)
        budgetIds = try c.decodeIfPresent([String].self, forKey: .budgetIds) ?? []
    }
}
