/// The registry's defaults for a chat request, added only where the client left them out, and the
/// model's output-limit field: model behaviour as data (`providerSettings`), not name checks. The one
/// owner of these rules, for a canonical request and for an Anthropic client's JSON relayed as sent.
///
/// - `maxTokensField`: `max_tokens` (default) or `max_completion_tokens` (OpenAI reasoning models,
///   which refuse `max_tokens`); a client's `max_tokens` is converted to it.
/// - `sendDefaultTemperature`: false for models that accept no temperature but their own.
/// - `maxOutputTokens`: the output limit, when the registry's `maxTokens` is the context window.
package enum ChatDefaults {
    package static func apply(to request: ChatCompletionRequest, model: Model) -> ChatCompletionRequest {
        var request = request
        if request.temperature == nil, model.providerSettings["sendDefaultTemperature"]?.boolValue != false {
            request.temperature = model.defaultTemperature
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
