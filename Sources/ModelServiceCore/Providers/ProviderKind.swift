import Foundation

/// The upstream providers the service knows. Input is case-insensitive (`OPENAI` = `openai`);
/// output is always the lower-case raw value.
public enum ProviderKind: String, Sendable, Hashable, CaseIterable, Codable {
    case openai, anthropic, gemini, azure, ollama, xai, deepseek, bedrock, vertex
    /// Any server that speaks OpenAI's API (Mistral, Groq, vLLM, ...): each model names its server (``CompatibleServer``).
    case openaiCompatible = "openai-compatible"

    /// Parses a provider name the way users write it: any case, surrounding spaces ignored.
    public init?(name: String) {
        self.init(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let kind = ProviderKind(name: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "unknown provider '\(raw)'; known providers: \(ProviderKind.knownList)"
            )
        }
        self = kind
    }

    /// "openai, anthropic, ..." for error messages.
    public static var knownList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The environment variable that holds the server-wide fallback key (nil: no key needed). Bedrock's
    /// credential may instead be a key pair in several variables: ``EnvironmentCredential`` reads them.
    public var defaultAPIKeyEnvVar: String? {
        switch self {
        case .openai: "OPENAI_API_KEY"
        case .anthropic: "ANTHROPIC_API_KEY"
        case .gemini: "GOOGLE_API_KEY"
        case .azure: "AZURE_OPENAI_API_KEY"
        case .xai: "XAI_API_KEY"
        case .deepseek: "DEEPSEEK_API_KEY"
        case .bedrock: "AWS_BEARER_TOKEN_BEDROCK"
        case .ollama: nil
        case .vertex: "VERTEX_SERVICE_ACCOUNT_JSON"
        // Each server has its own (a model's `apiKeyEnvVar`), or none.
        case .openaiCompatible: nil
        }
    }

    /// The environment variable that overrides the base URL, and its default, as each official SDK writes them.
    public var baseURLEnvVar: String {
        switch self {
        case .openai: "OPENAI_BASE_URL"
        case .anthropic: "ANTHROPIC_BASE_URL"
        case .gemini: "GEMINI_BASE_URL"
        case .azure: "AZURE_OPENAI_ENDPOINT"
        case .ollama: "OLLAMA_BASE_URL"
        case .xai: "XAI_BASE_URL"
        case .deepseek: "DEEPSEEK_BASE_URL"
        case .bedrock: "BEDROCK_BASE_URL"
        case .vertex: "VERTEX_BASE_URL"
        case .openaiCompatible: "OPENAI_COMPATIBLE_BASE_URL"
        }
    }

    public var defaultBaseURL: String {
        switch self {
        case .openai: "https://api.openai.com/v1"
        case .anthropic: "https://api.anthropic.com"
        case .gemini: "https://generativelanguage.googleapis.com"
        case .azure: "https://example-resource.openai.azure.com"
        case .ollama: "http://127.0.0.1:11434"
        case .xai: "https://api.x.ai/v1"
        case .deepseek: "https://api.deepseek.com/v1"
        // The runtime endpoint of the default region; a model's region picks its own (``UpstreamEndpoints``).
        case .bedrock: BedrockRegion.runtimeURL(BedrockRegion.fallback)
        // Stands for every regional host: VertexAdapter calls `{region}-aiplatform.googleapis.com` when it sees this.
        case .vertex: "https://aiplatform.googleapis.com"
        // vLLM's default address; every catalog row names its own server's (`providerSettings.baseURL`).
        case .openaiCompatible: "http://127.0.0.1:8000/v1"
        }
    }
}
