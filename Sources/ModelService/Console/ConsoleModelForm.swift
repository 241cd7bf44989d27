import Foundation
import ModelServiceCore

/// The model form: its fields in order, the form values of a stored model, and the conversion of
/// a posted form into the same ``ModelFields`` the REST API decodes (the registry then validates).
enum ConsoleModelForm {
    static let modes = ModelMode.allCases.map(\.rawValue)

    static let labels = [
        "name": "Name", "displayName": "Display name", "provider": "Provider", "modelId": "Model ID", "description": "Description",
        "mode": "Mode", "maxTokens": "Max tokens", "defaultTemperature": "Default temperature",
        "inputCostPerMillion": "Input price", "outputCostPerMillion": "Output price", "cacheReadCostPerMillion": "Cache read price",
        "cacheWriteCostPerMillion": "Cache write price", "cacheWrite1hCostPerMillion": "1-hour cache write price", "priceTiers": "Price tiers",
        "rateLimitPerMinute": "Rate limit per minute", "rateLimitPerHour": "Rate limit per hour", "rateLimitPerDay": "Rate limit per day",
        "tokenLimitPerMinute": "Token limit per minute", "tokenLimitPerDay": "Token limit per day",
        "fallbacks": "Fallbacks", "providerSettings": "Provider settings", "apiKeyEnvVar": "API key environment variable",
    ]

    static func layout(_ form: ConsoleForm, errors: FieldErrors) -> [[String: Any]] {
        let value = { (name: String) in form[name] }
        return [
            ConsoleField.text("name", "Name", value: value("name"), error: errors["name"], hint: "What clients send as \"model\", for example openai/gpt-4o."),
            ConsoleField.text("displayName", "Display name", value: value("displayName"), error: errors["displayName"]),
            ConsoleField.select("provider", "Provider", options: ProviderKind.consoleOptions(selected: value("provider")), error: errors["provider"]),
            ConsoleField.text("modelId", "Model ID", value: value("modelId"), error: errors["modelId"], hint: "The provider's own name for the model."),
            ConsoleField.textarea("description", "Description", value: value("description"), error: errors["description"]),
            ConsoleField.select("mode", "Mode", options: modes.map { ["value": $0, "label": $0.capitalized, "selected": $0 == (value("mode") ?? "chat")] },
                                error: errors["mode"]),
            ConsoleField.text("maxTokens", "Max tokens", value: value("maxTokens"), error: errors["maxTokens"], hint: "A whole number from 1; leave empty for none.",
                              type: "text"),
            ConsoleField.text("defaultTemperature", "Default temperature", value: value("defaultTemperature"), error: errors["defaultTemperature"],
                              hint: "From 0 to 2; leave empty for the provider's default."),
            ConsoleField.text("inputCostPerMillion", "Input price per million tokens (USD)", value: value("inputCostPerMillion"),
                              error: errors["inputCostPerMillion"], hint: "Leave input and output empty for a model without prices: its calls record no cost."),
            ConsoleField.text("outputCostPerMillion", "Output price per million tokens (USD)", value: value("outputCostPerMillion"),
                              error: errors["outputCostPerMillion"], hint: "Reasoning tokens are charged as output."),
            ConsoleField.text("cacheReadCostPerMillion", "Cache read price per million tokens (USD)", value: value("cacheReadCostPerMillion"),
                              error: errors["cacheReadCostPerMillion"], hint: "Empty: cache reads cost the input price."),
            ConsoleField.text("cacheWriteCostPerMillion", "Cache write price per million tokens (USD)", value: value("cacheWriteCostPerMillion"),
                              error: errors["cacheWriteCostPerMillion"], hint: "Anthropic's 5-minute cache writes. Empty: the input price."),
            ConsoleField.text("cacheWrite1hCostPerMillion", "1-hour cache write price per million tokens (USD)", value: value("cacheWrite1hCostPerMillion"),
                              error: errors["cacheWrite1hCostPerMillion"], hint: "Empty: the cache write price."),
            ConsoleField.textarea("priceTiers", "Price tiers (JSON)", value: value("priceTiers"), error: errors["priceTiers"],
                                  hint: "Prices for prompts above a size, for example [{\"aboveInputTokens\": 200000, \"inputCostPerMillion\": 2.5, \"outputCostPerMillion\": 15}]."),
            ConsoleField.checkbox("allowUnpriced", "Allow calls under a cost budget while the model has no prices", checked: form.checked("allowUnpriced")),
            ConsoleField.text("rateLimitPerMinute", "Rate limit per minute", value: value("rateLimitPerMinute"), error: errors["rateLimitPerMinute"]),
            ConsoleField.text("rateLimitPerHour", "Rate limit per hour", value: value("rateLimitPerHour"), error: errors["rateLimitPerHour"]),
            ConsoleField.text("rateLimitPerDay", "Rate limit per day", value: value("rateLimitPerDay"), error: errors["rateLimitPerDay"]),
            ConsoleField.text("tokenLimitPerMinute", "Token limit per minute", value: value("tokenLimitPerMinute"), error: errors["tokenLimitPerMinute"]),
            ConsoleField.text("tokenLimitPerDay", "Token limit per day", value: value("tokenLimitPerDay"), error: errors["tokenLimitPerDay"]),
            ConsoleField.text("fallbacks", "Fallbacks", value: value("fallbacks"), error: errors["fallbacks"],
                              hint: "Registered model names to try when this one fails, separated by commas."),
            ConsoleField.textarea("providerSettings", "Provider settings (JSON)", value: value("providerSettings"), error: errors["providerSettings"],
                                  hint: "A JSON object, for example {\"maxOutputTokens\": 4096}."),
            ConsoleField.text("apiKeyEnvVar", "API key environment variable", value: value("apiKeyEnvVar"), error: errors["apiKeyEnvVar"],
                              hint: "Optional server-wide fallback key, for example OPENAI_API_KEY."),
            ConsoleField.checkbox("supportsStreaming", "Supports streaming", checked: form.checked("supportsStreaming")),
            ConsoleField.checkbox("isActive", "Active", checked: form.checked("isActive")),
            ConsoleField.checkbox("isDefault", "Default model of its provider", checked: form.checked("isDefault")),
        ]
    }

    static func values(of model: Model) -> ConsoleForm {
        var values: [String: String] = [
            "name": model.name, "displayName": model.displayName ?? "", "provider": model.provider.rawValue, "modelId": model.modelId,
            "description": model.description ?? "", "maxTokens": model.maxTokens.map(String.init) ?? "",
            "defaultTemperature": model.defaultTemperature.map { "\($0)" } ?? "",
            "inputCostPerMillion": price(model.prices?.rates.input), "outputCostPerMillion": price(model.prices?.rates.output),
            "cacheReadCostPerMillion": price(model.prices?.rates.cacheRead), "cacheWriteCostPerMillion": price(model.prices?.rates.cacheWrite),
            "cacheWrite1hCostPerMillion": price(model.prices?.rates.cacheWrite1h),
            "priceTiers": ModelPrices.encodeTiers(model.prices?.tiers ?? []),
            "rateLimitPerMinute": model.rateLimitPerMinute.map(String.init) ?? "", "rateLimitPerHour": model.rateLimitPerHour.map(String.init) ?? "",
            "rateLimitPerDay": model.rateLimitPerDay.map(String.init) ?? "",
            "tokenLimitPerMinute": model.tokenLimitPerMinute.map(String.init) ?? "", "tokenLimitPerDay": model.tokenLimitPerDay.map(String.init) ?? "", "apiKeyEnvVar": model.apiKeyEnvVar ?? "",
            "providerSettings": Model.encodeObject(model.providerSettings),
            "mode": model.mode.rawValue,
            "fallbacks": model.fallbacks.joined(separator: ", "),
        ]
        if model.supportsStreaming { values["supportsStreaming"] = "true" }
        if model.isActive { values["isActive"] = "true" }
        if model.isDefault { values["isDefault"] = "true" }
        if model.allowUnpriced { values["allowUnpriced"] = "true" }
        return ConsoleForm(values: values)
    }

    private static func price(_ value: Double?) -> String {
        value.map { "\($0)" } ?? ""
    }

    /// The form as a full replacement of the model's fields (an empty optional field clears it).
    /// Values that are not even the right kind (letters in a number) are reported here; bounds are
    /// the registry's ``ModelFields/validate(creating:)``.
    static func fields(from form: ConsoleForm, existing: Model?, registry: ModelRegistry, errors: inout FieldErrors) -> ModelFields {
        var fields = ModelFields()
        let creating = existing == nil
        func text(_ name: String) -> FieldUpdate<String> { form.textUpdate(name, creating: creating) }
        func integer(_ name: String) -> FieldUpdate<Int> { form.integerUpdate(name, creating: creating, errors: &errors) }
        func number(_ name: String, emptyAs empty: Double? = nil) -> FieldUpdate<Double> {
            guard let raw = form.text(name) else { return empty.map { FieldUpdate<Double>.set($0) } ?? (creating ? .unchanged : .set(nil)) }
            guard let value = Double(raw), value.isFinite else {
                errors.add(name, "must be a number")
                return .unchanged
            }
            return .set(value)
        }
        /// A JSON field of the form: its value, or an error next to it (nil).
        func json<T: Decodable>(_ name: String, as type: T.Type, empty: String, expected: String) -> T? {
            let text = form.text(name) ?? empty
            guard text.count <= 16_384 else {
                errors.add(name, "must be at most 16384 characters")
                return nil
            }
            guard let value = try? JSONDecoder().decode(type, from: Data(text.utf8)) else {
                errors.add(name, "must be \(expected)")
                return nil
            }
            return value
        }
        fields.name = form.text("name").map { FieldUpdate<String>.set($0) } ?? (creating ? .unchanged : .set(""))
        fields.displayName = text("displayName")
        fields.provider = form.text("provider").map { FieldUpdate<String>.set($0) } ?? .unchanged
        fields.modelId = form.text("modelId").map { FieldUpdate<String>.set($0) } ?? (creating ? .unchanged : .set(""))
        fields.description = text("description")
        fields.maxTokens = integer("maxTokens")
        fields.defaultTemperature = number("defaultTemperature")
        fields.inputCostPerMillion = number("inputCostPerMillion")
        fields.outputCostPerMillion = number("outputCostPerMillion")
        fields.cacheReadCostPerMillion = number("cacheReadCostPerMillion")
        fields.cacheWriteCostPerMillion = number("cacheWriteCostPerMillion")
        fields.cacheWrite1hCostPerMillion = number("cacheWrite1hCostPerMillion")
        fields.allowUnpriced = .set(form.checked("allowUnpriced"))
        if let tiers = json("priceTiers", as: [ModelPrices.Tier].self, empty: "[]", expected: "a JSON array of tiers, for example []") {
            fields.priceTiers = .set(tiers)
        }
        fields.rateLimitPerMinute = integer("rateLimitPerMinute")
        fields.rateLimitPerHour = integer("rateLimitPerHour")
        fields.rateLimitPerDay = integer("rateLimitPerDay")
        fields.tokenLimitPerMinute = integer("tokenLimitPerMinute")
        fields.tokenLimitPerDay = integer("tokenLimitPerDay")
        fields.apiKeyEnvVar = text("apiKeyEnvVar")
        fields.supportsStreaming = .set(form.checked("supportsStreaming"))
        fields.isActive = .set(form.checked("isActive"))
        fields.isDefault = .set(form.checked("isDefault"))
        if creating && form.text("name") == nil { errors.add("name", "is required") }
        if creating && form.text("modelId") == nil { errors.add("modelId", "is required") }
        if let settings = json("providerSettings", as: [String: JSONValue].self, empty: "{}", expected: "a JSON object, for example {}") {
            fields.providerSettings = .set(settings)
        }
        let metadata = existing?.metadata ?? [:]
        let mode = form.text("mode") ?? "chat"
        if modes.contains(mode) { fields.mode = .set(mode) } else { errors.add("mode", "must be one of \(modes.joined(separator: ", "))") }
        let fallbacks = (form.text("fallbacks") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let ownName = form.text("name")?.lowercased()
        if let unknown = fallbacks.first(where: { registry.model(named: $0) == nil || $0.lowercased() == ownName }) {
            errors.add("fallbacks", "must name other registered models; '\(unknown)' is not one")
        } else if fallbacks.count > 10 {
            errors.add("fallbacks", "must name at most 10 models")
        }
        fields.fallbacks = .set(fallbacks)
        fields.metadata = .set(metadata)
        return fields
    }
}
