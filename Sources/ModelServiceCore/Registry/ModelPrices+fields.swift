import Foundation
import SQLKit

/// How prices appear in a model's JSON and rows: flat fields per million tokens (`inputCostPerMillion`, …,
/// `priceTiers`), and the per-1k fields the API showed before, still accepted and still shown.
extension ModelPrices {
    /// Reads the flat fields; the per-million ones win over the per-1k ones. Nil when neither input nor output is given.
    package static func decodeFlat(_ c: KeyedDecodingContainer<Model.CodingKeys>) throws -> ModelPrices? {
        let input = try c.decodeIfPresent(Double.self, forKey: .inputCostPerMillion)
            ?? c.decodeIfPresent(Double.self, forKey: .inputCostPer1kTokens).map { rounded($0 * 1000) }
        let output = try c.decodeIfPresent(Double.self, forKey: .outputCostPerMillion)
            ?? c.decodeIfPresent(Double.self, forKey: .outputCostPer1kTokens).map { rounded($0 * 1000) }
        guard input != nil || output != nil else { return nil }
        return ModelPrices(
            rates: Rates(
                input: input ?? 0, output: output ?? 0,
                cacheRead: try c.decodeIfPresent(Double.self, forKey: .cacheReadCostPerMillion),
                cacheWrite: try c.decodeIfPresent(Double.self, forKey: .cacheWriteCostPerMillion),
                cacheWrite1h: try c.decodeIfPresent(Double.self, forKey: .cacheWrite1hCostPerMillion)),
            tiers: try c.decodeIfPresent([Tier].self, forKey: .priceTiers) ?? [])
    }

    /// Writes the flat fields: the input and output prices (per million and per 1k) as null when there are none.
    package static func encodeFlat(_ prices: ModelPrices?, into c: inout KeyedEncodingContainer<Model.CodingKeys>) throws {
        try c.encode(prices != nil, forKey: .priced)
        try c.encode(prices?.rates.input, forKey: .inputCostPerMillion)
        try c.encode(prices?.rates.output, forKey: .outputCostPerMillion)
        try c.encodeIfPresent(prices?.rates.cacheRead, forKey: .cacheReadCostPerMillion)
        try c.encodeIfPresent(prices?.rates.cacheWrite, forKey: .cacheWriteCostPerMillion)
        try c.encodeIfPresent(prices?.rates.cacheWrite1h, forKey: .cacheWrite1hCostPerMillion)
        try c.encode(prices?.tiers ?? [], forKey: .priceTiers)
        try c.encode(prices?.per1k.input, forKey: .inputCostPer1kTokens)
        try c.encode(prices?.per1k.output, forKey: .outputCostPer1kTokens)
    }

    /// The model row's prices: nil when both the input and the output price are NULL.
    package init?(row: any SQLRow) throws {
        let input = try row.decode(column: "input_cost_per_million", as: Double?.self)
        let output = try row.decode(column: "output_cost_per_million", as: Double?.self)
        guard input != nil || output != nil else { return nil }
        let tiersText = try row.decode(column: "price_tiers", as: String.self)
        self.init(
            rates: Rates(
                input: Self.rounded(input ?? 0), output: Self.rounded(output ?? 0),
                cacheRead: try row.decode(column: "cache_read_cost_per_million", as: Double?.self).map(Self.rounded),
                cacheWrite: try row.decode(column: "cache_write_cost_per_million", as: Double?.self).map(Self.rounded),
                cacheWrite1h: try row.decode(column: "cache_write_1h_cost_per_million", as: Double?.self).map(Self.rounded)),
            tiers: (try? JSONDecoder().decode([Tier].self, from: Data(tiersText.utf8))) ?? [])
    }

    /// The input and output prices per 1,000 tokens, as the API showed prices before they were per million.
    package var per1k: (input: Double, output: Double) {
        (Self.rounded(rates.input / 1000), Self.rounded(rates.output / 1000))
    }

    /// The price columns of a `models` row and of a `model_prices` history row.
    package static let columns = [
        "input_cost_per_million", "output_cost_per_million", "cache_read_cost_per_million", "cache_write_cost_per_million",
        "cache_write_1h_cost_per_million", "price_tiers",
    ]

    /// The values of ``columns`` for these prices (or for none).
    package static func binds(_ prices: ModelPrices?) -> [any Encodable & Sendable] {
        [
            prices?.rates.input, prices?.rates.output, prices?.rates.cacheRead, prices?.rates.cacheWrite, prices?.rates.cacheWrite1h,
            encodeTiers(prices?.tiers ?? []),
        ]
    }

    /// A `models` row's price columns: ``columns`` and the per-1k columns of earlier versions, kept filled so
    /// that a downgrade reads the same prices.
    package static let modelColumns = columns + ["input_cost_per_1k_tokens", "output_cost_per_1k_tokens"]

    /// The values of ``modelColumns``.
    package static func modelBinds(_ prices: ModelPrices?) -> [any Encodable & Sendable] {
        binds(prices) + [prices.map { $0.rates.input / 1000 } ?? 0, prices.map { $0.rates.output / 1000 } ?? 0]
    }

    /// A short line for the audit log: input / output per million, the cache prices and tiers when there are any.
    package static func summary(_ prices: ModelPrices?) -> String {
        guard let prices else { return "unpriced" }
        let rates = prices.rates
        var text = "\(rates.input)/\(rates.output) per 1M"
        if let read = rates.cacheRead { text += ", cache read \(read)" }
        if let write = rates.cacheWrite { text += ", cache write \(write)" }
        if let write1h = rates.cacheWrite1h { text += ", 1h write \(write1h)" }
        if !prices.tiers.isEmpty { text += ", \(prices.tiers.count) tier(s) above \(prices.tiers.map { String($0.aboveInputTokens) }.joined(separator: ", "))" }
        return text
    }

    package static func encodeTiers(_ tiers: [Tier]) -> String {
        (try? String(decoding: JSONEncoder().encode(tiers), as: UTF8.self)) ?? "[]"
    }
}
