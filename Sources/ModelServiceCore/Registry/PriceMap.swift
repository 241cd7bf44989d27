import Foundation

/// A price map in the widely used `model_prices_and_context_window.json` format (LiteLLM's): one object per
/// model name with prices in USD per token (`input_cost_per_token`, `output_cost_per_token`,
/// `cache_read_input_token_cost`, `cache_creation_input_token_cost`, `cache_creation_input_token_cost_above_1hr`,
/// and `…_above_<N>k_tokens` variants for long prompts).
///
/// ``diff(_:)`` compares it with the registry: a registry model is found under `provider/modelId` or `modelId`.
public struct PriceMap: Sendable {
    /// Prices per map key, converted to per million tokens.
    public let prices: [String: ModelPrices]

    /// The largest file read: the public map is about 1.5 MB.
    public static let maxBytes = 64 * 1024 * 1024

    public init(json data: Data) throws(ServiceError) {
        guard data.count <= Self.maxBytes else { throw .invalidField("file", "is larger than \(Self.maxBytes) bytes") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .invalidField("file", "is not a JSON object of model names to prices")
        }
        var prices: [String: ModelPrices] = [:]
        for (key, value) in object where key != "sample_spec" {
            guard let fields = value as? [String: Any], let entry = Self.entry(fields) else { continue }
            prices[key.lowercased()] = entry
        }
        self.prices = prices
    }

    /// One entry's prices; nil when it has neither an input nor an output price per token.
    static func entry(_ fields: [String: Any]) -> ModelPrices? {
        func perMillion(_ key: String) -> Double? {
            guard let number = fields[key] as? NSNumber, !(number is Bool) else { return nil }
            let value = number.doubleValue * 1_000_000
            return value.isFinite && value >= 0 && value <= ModelPrices.maxPrice ? ModelPrices.rounded(value) : nil
        }
        let input = perMillion("input_cost_per_token")
        let output = perMillion("output_cost_per_token")
        guard input != nil || output != nil else { return nil }
        let rates = ModelPrices.Rates(
            input: input ?? 0, output: output ?? 0, cacheRead: perMillion("cache_read_input_token_cost"),
            cacheWrite: perMillion("cache_creation_input_token_cost"), cacheWrite1h: perMillion("cache_creation_input_token_cost_above_1hr"))
        var tiers: [ModelPrices.Tier] = []
        for key in fields.keys where key.hasPrefix("input_cost_per_token_above_") && key.hasSuffix("k_tokens") {
            let size = key.dropFirst("input_cost_per_token_above_".count).dropLast("k_tokens".count)
            guard let thousands = Int(size), (1...1_000_000).contains(thousands), let tierInput = perMillion(key) else { continue }
            let suffix = "_above_\(size)k_tokens"
            tiers.append(
                ModelPrices.Tier(
                    aboveInputTokens: thousands * 1000, inputCostPerMillion: tierInput,
                    outputCostPerMillion: perMillion("output_cost_per_token" + suffix) ?? rates.output,
                    cacheReadCostPerMillion: perMillion("cache_read_input_token_cost" + suffix),
                    cacheWriteCostPerMillion: perMillion("cache_creation_input_token_cost" + suffix),
                    cacheWrite1hCostPerMillion: nil))
        }
        // The lowest thresholds when a map has more tiers than the registry keeps: the same ones on every run.
        let kept = tiers.sorted { $0.aboveInputTokens < $1.aboveInputTokens }.prefix(ModelPrices.maxTiers)
        return ModelPrices(rates: rates, tiers: Array(kept))
    }

    /// The map's entry for a registry model, and the key it was found under.
    public func entry(for model: Model) -> (key: String, prices: ModelPrices)? {
        for key in ["\(model.provider.rawValue)/\(model.modelId)", model.modelId].map({ $0.lowercased() }) {
            if let prices = prices[key] { return (key, prices) }
        }
        return nil
    }

    /// What importing the map would do to each registry model it concerns.
    public func diff(_ models: [Model]) -> [PriceMapChange] {
        models.compactMap { model -> PriceMapChange? in
            guard let (key, proposed) = entry(for: model) else {
                return model.prices == nil ? nil : PriceMapChange(model: model, kind: .gone, key: nil, proposed: nil)
            }
            if model.prices == proposed { return nil }
            return PriceMapChange(model: model, kind: model.prices == nil ? .new : .changed, key: key, proposed: proposed)
        }.sorted { $0.model.name < $1.model.name }
    }
}

/// One registry model's difference from a price map.
public struct PriceMapChange: Sendable {
    public enum Kind: String, Sendable {
        /// The model has no prices; the map has some.
        case new
        /// The map's prices differ from the model's.
        case changed
        /// The model has prices, and the map has no entry for it: reported, never applied.
        case gone
    }

    public var model: Model
    public var kind: Kind
    public var key: String?
    public var proposed: ModelPrices?

    /// One line of the report: `changed  openai/gpt-4o  2.5/10 per 1M -> 2/8 per 1M  (map: gpt-4o)`.
    public var line: String {
        let name = model.name.padding(toLength: max(model.name.count, 36), withPad: " ", startingAt: 0)
        switch kind {
        case .gone: return "gone     \(name)  \(ModelPrices.summary(model.prices)); no entry in the map, left as it is"
        case .new, .changed:
            return "\(kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(name)  \(ModelPrices.summary(model.prices)) -> "
                + "\(ModelPrices.summary(proposed))  (map: \(key ?? ""))"
        }
    }

    /// The registry change that applies the map's prices: every price field set, so absent ones are cleared.
    public var fields: ModelFields? {
        proposed.map(Self.fields(for:))
    }

    /// The registry change that sets a model's prices to `proposed`, absent ones cleared.
    public static func fields(for proposed: ModelPrices) -> ModelFields {
        var fields = ModelFields()
        fields.inputCostPerMillion = .set(proposed.rates.input)
        fields.outputCostPerMillion = .set(proposed.rates.output)
        fields.cacheReadCostPerMillion = .set(proposed.rates.cacheRead)
        fields.cacheWriteCostPerMillion = .set(proposed.rates.cacheWrite)
        fields.cacheWrite1hCostPerMillion = .set(proposed.rates.cacheWrite1h)
        fields.priceTiers = .set(proposed.tiers)
        return fields
    }
}
