import Foundation

/// What a provider charges for a model, in USD per million tokens, the unit every provider's price page uses.
///
/// Cache reads, cache writes (Anthropic's 5-minute ones) and 1-hour cache writes have prices of their own;
/// one left out is charged as the input price (1-hour writes: as the 5-minute write price). Tiers replace
/// every rate for a call whose prompt is larger than their threshold, as Gemini 2.5 Pro and Claude's 1M
/// window charge more above 200k prompt tokens. Reasoning tokens are part of the output.
public struct ModelPrices: Sendable, Codable, Equatable {
    public var rates: Rates
    /// Sorted by ``Tier/aboveInputTokens``; the last one whose threshold the prompt passes applies.
    public var tiers: [Tier]

    public struct Rates: Sendable, Codable, Equatable {
        public var input: Double
        public var output: Double
        public var cacheRead: Double?
        public var cacheWrite: Double?
        public var cacheWrite1h: Double?

        public init(input: Double, output: Double, cacheRead: Double? = nil, cacheWrite: Double? = nil, cacheWrite1h: Double? = nil) {
            self.input = input
            self.output = output
            self.cacheRead = cacheRead
            self.cacheWrite = cacheWrite
            self.cacheWrite1h = cacheWrite1h
        }

        /// The highest price any token of the call may be charged at, for budget reservations.
        package var dearestInput: Double { max(input, cacheWrite ?? input, cacheWrite1h ?? cacheWrite ?? input) }
    }

    /// Rates for prompts of more than `aboveInputTokens` tokens (cached and cache-written included).
    public struct Tier: Sendable, Codable, Equatable {
        public var aboveInputTokens: Int
        public var inputCostPerMillion: Double
        public var outputCostPerMillion: Double
        public var cacheReadCostPerMillion: Double?
        public var cacheWriteCostPerMillion: Double?
        public var cacheWrite1hCostPerMillion: Double?

        package var rates: Rates {
            Rates(
                input: inputCostPerMillion, output: outputCostPerMillion, cacheRead: cacheReadCostPerMillion,
                cacheWrite: cacheWriteCostPerMillion, cacheWrite1h: cacheWrite1hCostPerMillion)
        }
    }

    public init(rates: Rates, tiers: [Tier] = []) {
        self.rates = rates
        self.tiers = tiers.sorted { $0.aboveInputTokens < $1.aboveInputTokens }
    }

    /// The rates for a prompt of `promptTokens` tokens.
    public func rates(promptTokens: Int) -> Rates {
        tiers.last { promptTokens > $0.aboveInputTokens }?.rates ?? rates
    }

    /// The cost in USD of a call's tokens.
    ///
    /// `promptTokens` counts every input token (uncached, cache reads and cache writes, as OpenAI's
    /// `prompt_tokens` does); the cached parts are taken out and charged at their own prices.
    public func cost(_ usage: Usage) -> Double {
        let rates = rates(promptTokens: usage.promptTokens)
        let detail = TokenDetail(usage)
        let perMillion =
            Double(detail.uncachedInput) * rates.input
            + Double(detail.cacheRead) * (rates.cacheRead ?? rates.input)
            + Double(detail.cacheWrite) * (rates.cacheWrite ?? rates.input)
            + Double(detail.cacheWrite1h) * (rates.cacheWrite1h ?? rates.cacheWrite ?? rates.input)
            + Double(detail.output) * rates.output
        return perMillion / 1_000_000
    }

    /// The dearest price any input token and the output of a prompt of about `promptTokens` tokens may be charged
    /// at, for the budget reservation made before the call.
    package func dearest(promptTokens: Int) -> (input: Double, output: Double) {
        let rates = rates(promptTokens: promptTokens)
        return (rates.dearestInput, rates.output)
    }

    /// The largest price the registry accepts, per million tokens.
    package static let maxPrice = 1_000_000.0

    /// At most this many tiers per model.
    package static let maxTiers = 8

    /// Stored prices are rounded to a billionth of a dollar per million tokens: a price converted from
    /// per-1k (× 1000) reads back as 0.15, not 0.15000000000000002.
    package static func rounded(_ price: Double) -> Double {
        (price * 1e9).rounded() / 1e9
    }
}

/// The parts of a call's tokens that are priced differently, every one in `0...TokenCount.max`.
public struct TokenDetail: Sendable, Equatable {
    /// Prompt tokens neither read from nor written to a cache.
    public var uncachedInput: Int
    public var cacheRead: Int
    /// Cache writes kept 5 minutes (Anthropic's default; what other providers report as writes).
    public var cacheWrite: Int
    public var cacheWrite1h: Int
    public var output: Int
    /// Part of `output`: billed as output, shown apart.
    public var reasoning: Int

    public init(_ usage: Usage) {
        // Each cached part is bounded by what the prompt has left, so a provider's inconsistent counts
        // never charge a token twice or make the uncached part negative.
        var left = usage.promptTokens
        cacheRead = min(usage.cachedTokens ?? 0, left)
        left -= cacheRead
        cacheWrite = min(usage.cacheWriteTokens ?? 0, left)
        left -= cacheWrite
        cacheWrite1h = min(usage.cacheWrite1hTokens ?? 0, left)
        left -= cacheWrite1h
        uncachedInput = left
        output = usage.completionTokens
        reasoning = min(usage.reasoningTokens ?? 0, usage.completionTokens)
    }
}
