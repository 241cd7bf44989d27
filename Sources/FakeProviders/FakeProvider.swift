/// The upstream wire formats the fake server imitates; the raw value is the URL prefix and the name used in echo answers.
public enum FakeProvider: String, Sendable, CaseIterable, CustomStringConvertible {
    case openai
    case xai
    case deepseek
    case azure
    case anthropic
    case gemini
    case ollama
    case bedrock
    case vertex
    /// OpenAI's API under `/openai-compatible/{server}/v1`: any server name, so tests can run several servers.
    case openaiCompatible = "openai-compatible"

    /// The environment variable the gateway reads this provider's base URL from.
    public var baseURLVariable: String {
        switch self {
        case .openai: "OPENAI_BASE_URL"
        case .xai: "XAI_BASE_URL"
        case .deepseek: "DEEPSEEK_BASE_URL"
        case .azure: "AZURE_OPENAI_ENDPOINT"
        case .anthropic: "ANTHROPIC_BASE_URL"
        case .gemini: "GEMINI_BASE_URL"
        case .ollama: "OLLAMA_BASE_URL"
        case .bedrock: "BEDROCK_BASE_URL"
        case .vertex: "VERTEX_BASE_URL"
        case .openaiCompatible: "OPENAI_COMPATIBLE_BASE_URL"
        }
    }

    /// The path under the server root written as each official SDK writes its base URL (OpenAI-style ones end in `/v1`).
    public var basePath: String {
        switch self {
        case .openai, .xai, .deepseek: "/\(rawValue)/v1"
        case .azure, .anthropic, .gemini, .ollama, .bedrock, .vertex: "/\(rawValue)"
        case .openaiCompatible: "/\(rawValue)/fake/v1"
        }
    }

    public var description: String { rawValue }
}

extension FakeProvider {
    /// Model names every fake lists; any other name works too, its substrings choosing the behaviour.
    public static let listedModels = ["fake-echo", "fake-tool", "fake-slow", "fake-stream-delay", "fake-error-500", "fake-rate-limit"]
}
