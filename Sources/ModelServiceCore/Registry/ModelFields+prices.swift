/// The price fields of a model change: bounds, and the prices they leave the model with.
extension ModelFields {
    /// Each price from 0 to ``ModelPrices/maxPrice`` per million tokens; a side given both per million and per 1k is refused.
    func validatePrices() throws(ServiceError) {
        for (perMillion, per1k, field) in [
            (inputCostPerMillion, inputCostPer1kTokens, "inputCostPerMillion"), (outputCostPerMillion, outputCostPer1kTokens, "outputCostPerMillion"),
        ] where perMillion.isSet && per1k.isSet {
            throw .invalidField(field, "give the price per million or per 1k tokens, not both")
        }
        let perMillion = [
            ("inputCostPerMillion", inputCostPerMillion), ("outputCostPerMillion", outputCostPerMillion),
            ("cacheReadCostPerMillion", cacheReadCostPerMillion), ("cacheWriteCostPerMillion", cacheWriteCostPerMillion),
            ("cacheWrite1hCostPerMillion", cacheWrite1hCostPerMillion),
        ]
        for (field, price) in perMillion { try Self.checkPrice(field, price.value, max: ModelPrices.maxPrice) }
        for (field, price) in [("inputCostPer1kTokens", inputCostPer1kTokens), ("outputCostPer1kTokens", outputCostPer1kTokens)] {
            try Self.checkPrice(field, price.value, max: ModelPrices.maxPrice / 1000)
        }
        guard let tiers = priceTiers.value else { return }
        if tiers.count > ModelPrices.maxTiers { throw .invalidField("priceTiers", "must have at most \(ModelPrices.maxTiers) tiers") }
        for tier in tiers {
            if !(1...TokenCount.max).contains(tier.aboveInputTokens) {
                throw .invalidField("priceTiers.aboveInputTokens", "must be an integer from 1 to \(TokenCount.max)")
            }
            let prices: [(String, Double?)] = [
                ("inputCostPerMillion", tier.inputCostPerMillion), ("outputCostPerMillion", tier.outputCostPerMillion),
                ("cacheReadCostPerMillion", tier.cacheReadCostPerMillion), ("cacheWriteCostPerMillion", tier.cacheWriteCostPerMillion),
                ("cacheWrite1hCostPerMillion", tier.cacheWrite1hCostPerMillion),
            ]
            for (field, price) in prices { try Self.checkPrice("priceTiers.\(field)", price, max: ModelPrices.maxPrice) }
        }
        if Set(tiers.map(\.aboveInputTokens)).count != tiers.count {
            throw .invalidField("priceTiers", "must not repeat an aboveInputTokens threshold")
        }
    }

    private static func checkPrice(_ field: String, _ price: Double?, max: Double) throws(ServiceError) {
        guard let price else { return }
        if !(price.isFinite && price >= 0 && price <= max) { throw .invalidField(field, "must be a number from 0 to \(Int(max))") }
    }

    /// The prices after this change, over the model's `current` ones (nil for a new model).
    ///
    /// The model has no prices when neither an input nor an output price is left; a side left out while
    /// the other is set costs 0 (an embedding model has no output). Setting both to null marks a model
    /// unpriced and drops its cache prices and tiers.
    package func prices(over current: ModelPrices?) -> ModelPrices? {
        func side(_ perMillion: FieldUpdate<Double>, _ per1k: FieldUpdate<Double>, _ current: Double?) -> Double? {
            if perMillion.isSet { return perMillion.value.map(ModelPrices.rounded) }
            if per1k.isSet { return per1k.value.map { ModelPrices.rounded($0 * 1000) } }
            return current
        }
        func optional(_ update: FieldUpdate<Double>, _ current: Double?) -> Double? {
            update.isSet ? update.value.map(ModelPrices.rounded) : current
        }
        let input = side(inputCostPerMillion, inputCostPer1kTokens, current?.rates.input)
        let output = side(outputCostPerMillion, outputCostPer1kTokens, current?.rates.output)
        guard input != nil || output != nil else { return nil }
        let rates = current?.rates
        return ModelPrices(
            rates: .init(
                input: input ?? 0, output: output ?? 0,
                cacheRead: optional(cacheReadCostPerMillion, rates?.cacheRead),
                cacheWrite: optional(cacheWriteCostPerMillion, rates?.cacheWrite),
                cacheWrite1h: optional(cacheWrite1hCostPerMillion, rates?.cacheWrite1h)),
            tiers: priceTiers.isSet ? priceTiers.value ?? [] : current?.tiers ?? [])
    }

    /// True when the change touches a price (the store then rewrites every price column).
    package var changesPrices: Bool {
        [inputCostPerMillion, outputCostPerMillion, cacheReadCostPerMillion, cacheWriteCostPerMillion, cacheWrite1hCostPerMillion,
         inputCostPer1kTokens, outputCostPer1kTokens].contains { $0.isSet } || priceTiers.isSet
    }
}
