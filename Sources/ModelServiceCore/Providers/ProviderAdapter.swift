import AsyncHTTPClient
import NIOCore

/// One provider: everything the gateway asks of it (its capabilities), its URLs, headers and key check,
/// in one file each (`OpenAIAdapter`, `AzureOpenAIAdapter`, `XAIAdapter`, `DeepSeekAdapter`,
/// `AnthropicAdapter`, `GeminiAdapter`, `OllamaAdapter`, `BedrockAdapter`, `VertexAdapter`,
/// `OpenAICompatibleAdapter`).
///
/// Adapters hold no state: the key arrives with each call in `target` and is never stored. A capability a
/// provider lacks is refused in one place, before anything is sent (``ProviderCapability/refusal(provider:model:)``);
/// the defaults below only back that up.
package protocol ProviderAdapter: Sendable {
    /// What this provider can be asked for.
    var capabilities: Set<ProviderCapability> { get }

    /// True when the provider speaks OpenAI's chat format, so a client's OpenAI chat JSON is relayed as sent.
    var relaysOpenAIChat: Bool { get }

    /// One non-streamed chat completion.
    func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse

    /// A streamed chat completion. Returns once the upstream has accepted the call (errors before the
    /// first chunk are thrown here); the body is read as the caller iterates.
    func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream

    /// Embeddings in OpenAI's format: relayed, or vectors to render.
    func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> EmbeddingsAnswer

    /// OpenAI's Responses API, the client's JSON relayed: the answer's bytes, or its open event stream.
    func responses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> ByteBuffer
    func openResponses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> RawEventStream

    /// Anthropic's Messages API, the client's JSON relayed (`path` is `/v1/messages` or `/v1/messages/count_tokens`).
    func messages(_ body: ByteBuffer, path: String, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> ByteBuffer
    func openMessages(_ body: ByteBuffer, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> RawEventStream

    /// True when a call of `model` takes an Anthropic client's Messages JSON as sent (relayed) rather than translated chat:
    /// every model of a provider with the `messages` capability, unless it says otherwise (Vertex: only Claude).
    func relaysAnthropicMessages(model: String, settings: [String: JSONValue]) -> Bool

    /// Checks a key against the provider with a cheap authenticated call. Never throws.
    func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult
}

/// What a provider can be asked for, each behind a front door.
public enum ProviderCapability: String, Sendable, Hashable, CaseIterable {
    case chat
    case embeddings
    case responses
    case messages

    /// The one refusal of a capability the provider lacks (a 400 naming the model's field).
    package func refusal(provider: ProviderKind, model: String) -> ServiceError {
        let supported = ProviderAdapters.all.filter { $0.adapter.capabilities.contains(self) }.map(\.provider.rawValue).sorted()
        return ServiceError(
            .unsupportedProvider,
            "The \(provider.rawValue) provider has no \(self.apiName) (model '\(model)'); providers that do: \(supported.joined(separator: ", ")).",
            field: "model")
    }

    private var apiName: String {
        switch self {
        case .chat: "chat API"
        case .embeddings: "embeddings API, so /v1/embeddings cannot call it"
        case .responses: "Responses API, so /v1/responses cannot call it: use /v1/chat/completions"
        case .messages: "Messages API"
        }
    }
}

extension ProviderAdapter {
    package var relaysOpenAIChat: Bool { false }

    package func relaysAnthropicMessages(model: String, settings: [String: JSONValue]) -> Bool { capabilities.contains(.messages) }

    package func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        throw ProviderCapability.chat.refusal(provider: target.provider, model: target.upstreamModel)
    }

    package func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        throw ProviderCapability.chat.refusal(provider: target.provider, model: target.upstreamModel)
    }

    package func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> EmbeddingsAnswer {
        throw ProviderCapability.embeddings.refusal(provider: target.provider, model: target.upstreamModel)
    }

    package func responses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> ByteBuffer {
        throw ProviderCapability.responses.refusal(provider: target.provider, model: target.upstreamModel)
    }

    package func openResponses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> RawEventStream {
        throw ProviderCapability.responses.refusal(provider: target.provider, model: target.upstreamModel)
    }

    package func messages(_ body: ByteBuffer, path: String, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> ByteBuffer
    {
        throw ProviderCapability.messages.refusal(provider: target.provider, model: target.upstreamModel)
    }

    package func openMessages(_ body: ByteBuffer, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> RawEventStream
    {
        throw ProviderCapability.messages.refusal(provider: target.provider, model: target.upstreamModel)
    }
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

/// The adapter of each provider: the one switch a new provider joins (the compiler insists). A switch
/// rather than a dictionary, so the lookup on every attempt hashes nothing.
package enum ProviderAdapters {
    package static func adapter(for provider: ProviderKind) -> any ProviderAdapter {
        switch provider {
        case .openai: OpenAIAdapter()
        case .azure: AzureOpenAIAdapter()
        case .xai: XAIAdapter()
        case .deepseek: DeepSeekAdapter()
        case .anthropic: AnthropicAdapter()
        case .gemini: GeminiAdapter()
        case .ollama: OllamaAdapter()
        case .bedrock: BedrockAdapter()
        case .vertex: VertexAdapter()
        case .openaiCompatible: OpenAICompatibleAdapter()
        }
    }

    package static var all: [(provider: ProviderKind, adapter: any ProviderAdapter)] {
        ProviderKind.allCases.map { ($0, adapter(for: $0)) }
    }

    /// Providers whose adapter relays a client's OpenAI chat JSON as sent.
    package static func speaksOpenAIChat(_ provider: ProviderKind) -> Bool {
        adapter(for: provider).relaysOpenAIChat
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
