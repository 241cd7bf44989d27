/// The fake's answer: the echo text split into one-word pieces for streaming, or the `get_weather` tool call.
struct FakeReply: Sendable {
    enum Content: Sendable {
        case text(String)
        case toolCall
    }

    static let toolName = "get_weather"
    static let toolArguments = #"{"city":"Paris"}"#
    /// The tool arguments streamed in two pieces, as providers send partial JSON.
    static let toolArgumentPieces = [#"{"city":"#, #""Paris"}"#]

    let content: Content
    let promptTokens: Int
    let completionTokens: Int
    var totalTokens: Int { promptTokens + completionTokens }
    /// What a `hostile-usage-…` model reports in every usage field instead of the real counts.
    let hostileCount: FakeRawJSON?
    /// What a `cached-…` model reports read from and written to the prompt cache.
    let cache: FakeCache?

    /// A usage field's value as this reply reports it.
    func count(_ value: Int) -> Any { hostileCount ?? value }

    init(provider: FakeProvider, chat: FakeChat, toolCall: Bool) {
        if toolCall {
            self.content = .toolCall
            self.completionTokens = FakeText.wordCount(Self.toolArguments)
        } else {
            let text = "Echo from \(provider.rawValue): \(chat.lastUserText)"
            self.content = .text(text)
            self.completionTokens = FakeText.wordCount(text)
        }
        self.promptTokens = chat.promptTokens
        self.hostileCount = FakeHostile.usageCount(model: chat.model)
        self.cache = FakeCache.counts(model: chat.model)
    }

    /// The text of a text answer, empty for a tool call.
    var text: String {
        if case .text(let text) = content { return text }
        return ""
    }
}
