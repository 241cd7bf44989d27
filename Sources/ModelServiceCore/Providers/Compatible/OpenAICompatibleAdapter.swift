import NIOCore

/// A server that speaks OpenAI's API at its own address (``CompatibleServer``): chat and embeddings relayed
/// exactly as ``OpenAIAdapter`` relays them, `Authorization: Bearer` only when the server has a key, keys
/// checked on `GET /models`. What one server lacks is refused at admission from its declared capabilities.
public struct OpenAICompatibleAdapter: OpenAIChatProvider {
    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat, .embeddings]

    package func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws
        -> EmbeddingsAnswer
    {
        try await OpenAIAdapter().embed(request, clientJSON: clientJSON, target: target, client: client)
    }
}
