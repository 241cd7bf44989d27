/// DeepSeek (`DEEPSEEK_BASE_URL`, default `https://api.deepseek.com/v1`, key `DEEPSEEK_API_KEY`): OpenAI's chat
/// format, chat only; its reasoning arrives as `reasoning_content`, which the relay passes through.
public struct DeepSeekAdapter: OpenAIChatProvider {
    public init() {}
}
