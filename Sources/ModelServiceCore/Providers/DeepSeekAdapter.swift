/// DeepSeek (`DEEPSEEK_BASE_URL`, default `https://api.deepseek.com/v1`): OpenAI's chat format and bearer key, chat only;
/// its reasoning arrives as `reasoning_content`, which the relay passes through.
public struct DeepSeekAdapter: ProviderAdapter {
    private let openAI = OpenAIAdapter()

    public init() {}

    package var capabilities: Set<ProviderCapability> { [.chat] }
    package var relaysOpenAIChat: Bool { true }

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        try await openAI.complete(request, target: target, client: client)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        try await openAI.stream(request, target: target, client: client)
    }

    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        await openAI.validateKey(target: target, client: client)
    }
}
