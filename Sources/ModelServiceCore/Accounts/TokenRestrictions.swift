/// What an access token is limited to beyond its role: the models it may call and its own request and token
/// limits per minute (counted across instances like a model's). Made once per token when tokens load, and
/// carried by reference, so the per-call ``Principal`` stays a few words.
public final class TokenRestrictions: Sendable, Equatable {
    /// Nil: every active model.
    public let scope: ModelScope?
    public let rateLimitPerMinute: Int?
    public let tokenLimitPerMinute: Int?

    /// Highest per-minute limits a token may carry, as for a model's.
    public static let maxRequestsPerMinute = 1_000_000_000
    public static let maxTokensPerMinute = 1_000_000_000_000

    /// Nil when the token is limited in nothing.
    public static func make(scope: ModelScope?, rateLimitPerMinute: Int?, tokenLimitPerMinute: Int?) -> TokenRestrictions? {
        guard scope != nil || rateLimitPerMinute != nil || tokenLimitPerMinute != nil else { return nil }
        return TokenRestrictions(scope: scope, rateLimitPerMinute: rateLimitPerMinute, tokenLimitPerMinute: tokenLimitPerMinute)
    }

    private init(scope: ModelScope?, rateLimitPerMinute: Int?, tokenLimitPerMinute: Int?) {
        self.scope = scope
        self.rateLimitPerMinute = rateLimitPerMinute
        self.tokenLimitPerMinute = tokenLimitPerMinute
    }

    public func allows(_ modelName: String) -> Bool { scope?.allows(modelName) ?? true }

    /// The token's own windows, counted for every model it calls.
    package func windows(tokenId: String) -> [RateWindow] {
        let limits: [(Int?, RateWindow.Unit)] = [(rateLimitPerMinute, .requests), (tokenLimitPerMinute, .tokens)]
        return limits.compactMap { limit, unit in
            limit.map { RateWindow(model: RateWindow.anyModel, caller: "token:\(tokenId)", unit: unit, spanMillis: 60_000, limit: $0) }
        }
    }

    public static func == (lhs: TokenRestrictions, rhs: TokenRestrictions) -> Bool {
        lhs.scope == rhs.scope && lhs.rateLimitPerMinute == rhs.rateLimitPerMinute && lhs.tokenLimitPerMinute == rhs.tokenLimitPerMinute
    }
}
