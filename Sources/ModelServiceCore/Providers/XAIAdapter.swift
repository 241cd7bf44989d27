/// xAI (`XAI_BASE_URL`, default `https://api.x.ai/v1`, key `XAI_API_KEY`): OpenAI's chat format, chat only.
public struct XAIAdapter: OpenAIChatProvider {
    public init() {}
}
