import AsyncHTTPClient
import NIOCore

/// One provider's wire format: translates canonical requests out and answers back.
///
/// Adapters are stateless; the key arrives with each call in `target` and is never stored.
public protocol ProviderAdapter: Sendable {
    /// One non-streamed completion.
    func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse

    /// A streamed completion. Returns once the upstream has accepted the call (errors before the
    /// first chunk are thrown here); the body is read as the caller iterates.
    func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream

    /// Checks a key against the provider with a cheap authenticated call. Never throws.
    func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult
}

/// The outcome of checking a provider key.
public enum KeyValidationResult: Sendable, Hashable {
    case valid
    /// The provider refused the key (401/403) or the key has an impossible format.
    case rejected(reason: String)
    /// The provider could not be reached, so nothing is known.
    case unreachable(reason: String)
    /// No check is possible or meaningful (Ollama, Azure without a deployment call).
    case notChecked(reason: String)
}

/// The adapter for each provider.
public enum ProviderAdapters {
    /// Providers whose adapter relays a client's OpenAI chat JSON as sent (``OpenAIAdapter``, Azure's).
    public static func speaksOpenAIChat(_ provider: ProviderKind) -> Bool {
        switch provider {
        case .openai, .xai, .deepseek, .azure: true
        case .anthropic, .gemini, .ollama: false
        }
    }

    public static func adapter(for provider: ProviderKind) -> any ProviderAdapter {
        switch provider {
        case .openai, .xai, .deepseek: OpenAIAdapter()
        case .anthropic: AnthropicAdapter()
        case .gemini: GeminiAdapter()
        case .azure: AzureOpenAIAdapter()
        case .ollama: OllamaAdapter()
        }
    }
}

extension ProviderAdapter {
    /// Validates by `GET url` with the auth headers: 2xx valid, 401/403 rejected, no answer unreachable.
    package func validateByGet(url: String, headers: [(String, String)], apiKey: Secret?, client: UpstreamClient) async -> KeyValidationResult {
        guard let apiKey, !apiKey.isEmpty else { return .rejected(reason: "no API key given") }
        let timeout = min(client.requestTimeout, .seconds(20))
        do {
            let (status, error) = try await client.probe(.get(url: url, headers: headers), apiKey: apiKey, timeout: timeout)
            switch status {
            case 200..<300: return .valid
            case _ where status == 401 || status == 403 || error?.rejectsKey == true:
                return .rejected(reason: error?.message ?? "the provider refused the key (\(status))")
            case 429: return .notChecked(reason: "the provider is rate limiting (429); the key was accepted for authentication")
            default: return .unreachable(reason: error?.message ?? "the provider answered HTTP \(status)")
            }
        } catch let error as ProviderError {
            return .unreachable(reason: error.message)
        } catch {
            return .unreachable(reason: "the check was cancelled")
        }
    }
}

extension UpstreamTarget {
    /// The key as sent, or an empty string when there is none (the upstream then answers 401).
    package var keyValue: String { apiKey?.reveal ?? "" }
}
