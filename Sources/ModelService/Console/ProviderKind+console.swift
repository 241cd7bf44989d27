import Foundation
import ModelServiceCore

extension ProviderKind {
    /// The provider's name as people write it, for labels such as "OpenAI API key".
    var consoleName: String {
        switch self {
        case .openai: "OpenAI"
        case .anthropic: "Anthropic"
        case .gemini: "Gemini"
        case .azure: "Azure OpenAI"
        case .ollama: "Ollama"
        case .xai: "xAI"
        case .deepseek: "DeepSeek"
        case .bedrock: "Amazon Bedrock"
        case .vertex: "Vertex AI"
        case .openaiCompatible: "OpenAI-compatible"
        }
    }

    static func consoleOptions(selected: String?) -> [[String: Any]] {
        allCases.map { ["value": $0.rawValue, "label": $0.consoleName, "selected": $0.rawValue == selected] }
    }
}

/// The pieces of a form field the `field` partial draws.
enum ConsoleField {
    static func text(_ name: String, _ label: String, value: String?, error: String?, hint: String? = nil, type: String = "text",
                     autocomplete: String? = nil) -> [String: Any]
    {
        let field: [String: Any?] = [
            "name": name, "label": label, "value": value ?? "", "error": error, "hint": hint, "input": true, "type": type, "autocomplete": autocomplete,
        ]
        return field.compactMapValues { $0 }
    }

    static func textarea(_ name: String, _ label: String, value: String?, error: String?, hint: String? = nil) -> [String: Any] {
        let field: [String: Any?] = ["name": name, "label": label, "value": value ?? "", "error": error, "hint": hint, "textarea": true]
        return field.compactMapValues { $0 }
    }

    static func select(_ name: String, _ label: String, options: [[String: Any]], error: String?) -> [String: Any] {
        let field: [String: Any?] = ["name": name, "label": label, "options": options, "error": error, "select": true]
        return field.compactMapValues { $0 }
    }

    static func checkbox(_ name: String, _ label: String, checked: Bool, error: String? = nil) -> [String: Any] {
        let field: [String: Any?] = ["name": name, "label": label, "checked": checked, "checkbox": true, "error": error]
        return field.compactMapValues { $0 }
    }

    /// Dollars, with enough digits that a single cheap call does not read as zero.
    static func money(_ value: Double) -> String {
        value > 0 && value < 0.01 ? String(format: "$%.6f", value) : String(format: "$%.4f", value)
    }
}
