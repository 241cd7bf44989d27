/// A provider that is OpenAI's chat API at another address with another key (xAI, DeepSeek): chat only,
/// relayed as sent, keys checked on `GET /models`, exactly as ``OpenAIAdapter`` does it.
package protocol OpenAIChatProvider: ProviderAdapter {}

/// Built once: the set is read on every call.
private let chatOnly: Set<ProviderCapability> = [.chat]

extension OpenAIChatProvider {
    package var capabilities: Set<ProviderCapability> { chatOnly }
    package var relaysOpenAIChat: Bool { true }

    package func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        try await OpenAIAdapter().complete(request, target: target, client: client)
    }

    package func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        try await OpenAIAdapter().stream(request, target: target, client: client)
    }

    package func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        await OpenAIAdapter().validateKey(target: target, client: client)
    }
}
