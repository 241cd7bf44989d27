/// The registry's defaults for a chat request, added only where the client left them out, and the
/// model's output-limit field: model behaviour as data (`providerSettings`), not name checks. The one
/// owner of these rules, for a canonical request and for an Anthropic client's JSON relayed as sent.
///
/// - `maxTokensField`: `max_tokens` (default) or `max_completion_tokens` (OpenAI reasoning models,
///   which refuse `max_tokens`); a client's `max_tokens` is converted to it.
/// - `sendDefaultTemperature`: false for models that accept no temperature but their own.
/// - `maxOutputTokens`: the output limit, when the registry's `maxTokens` is the context window.
/// - `reasoning`: true for models that take a reasoning effort (OpenAI's o-series and GPT-5, Gemini 2.5); other
///   models get neither an effort nor a thinking budget, which they would refuse.
package enum ChatDefaults {
    package static func apply(to request: ChatCompletionRequest, model: Model) -> ChatCompletionRequest {
        var request = request
        if request.temperature == nil, model.providerSettings["sendDefaultTemperature"]?.boolValue != false {
            request.temperature = model.defaultTemperature
        }
        if model.providerSettings["reasoning"]?.boolValue == true {
            if request.reasoningEffort == nil, let budget = request.thinkingBudget { request.reasoningEffort = reasoningEffort(budget: budget) }
        } else {
            request.reasoningEffort = nil
            request.thinkingBudget = nil
        }
        // A client's limit past the model's is lowered to it (admission already refused that for a model
        // the client's bytes go to as sent; a translated call or a fallback with a smaller limit lands here).
        let modelLimit = defaultMaxTokens(for: model)
        let limit = request.effectiveMaxTokens.map { requested in modelLimit.map { min(requested, $0) } ?? requested } ?? modelLimit
        if model.providerSettings["maxTokensField"]?.stringValue == "max_completion_tokens" {
            request.maxCompletionTokens = limit
            request.maxTokens = nil
        } else if request.maxCompletionTokens != nil {
            request.maxCompletionTokens = limit
        } else {
            request.maxTokens = limit
        }
        return request
    }

    /// An Anthropic client's JSON for an Anthropic-format upstream: `max_tokens` (which Anthropic requires)
    /// and the model's default temperature added only where absent. Anthropic refuses a temperature beside
    /// extended thinking, and on newer models beside `top_p`, so none is added then.
    package static func apply(toAnthropicJSON editor: inout JSONObjectEditor, model: Model) {
        if !editor.contains("max_tokens") {
            editor.set("max_tokens", defaultMaxTokens(for: model) ?? AnthropicTranslator.defaultMaxTokens)
        }
        if !editor.contains("temperature"), !editor.contains("top_p"), !editor.contains("thinking"),
            model.providerSettings["sendDefaultTemperature"]?.boolValue != false, let temperature = model.defaultTemperature
        {
            editor.set("temperature", temperature)
        }
    }

    /// An Anthropic thinking budget as OpenAI's effort: under 4,096 tokens is `low`, under 16,384 `medium`, more `high`.
    package static func reasoningEffort(budget: Int) -> String {
        budget < 4_096 ? "low" : budget < 16_384 ? "medium" : "high"
    }

    /// A thinking budget for Gemini: the client's, else its effort as Gemini's OpenAI-compatible endpoint reads it
    /// (low 1,024, medium 8,192, high 24,576), within 128…24,576 (what every Gemini 2.5 model takes).
    package static func thinkingBudget(_ request: ChatCompletionRequest) -> Int? {
        let budget =
            request.thinkingBudget
            ?? request.reasoningEffort.flatMap { effort -> Int? in
                switch effort {
                case "minimal", "low": 1_024
                case "medium": 8_192
                case "high": 24_576
                default: nil
                }
            }
        return budget.map { Saturating.clamp($0, to: 128...24_576) }
    }

    /// The model's `maxTokens` when the request leaves max tokens out, or its
    /// `providerSettings.maxOutputTokens` where that is smaller: the catalog's `maxTokens` is the
    /// context window, which providers refuse as an output limit.
    package static func defaultMaxTokens(for model: Model) -> Int? {
        // Registry data read back from the database: bounded like any outside number.
        let output = model.providerSettings["maxOutputTokens"]?.intValue.map { Saturating.clamp($0, to: 1...TokenCount.max) }
        switch (model.maxTokens.map { Saturating.clamp($0, to: 1...TokenCount.max) }, output) {
        case (let limit?, let output?): return min(limit, output)
        case (let limit?, nil): return limit
        case (nil, let output): return output
        }
    }
}
