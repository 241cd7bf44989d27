/// The part of a chat request the fakes need, extracted from any wire format.
struct FakeChat: Sendable {
    var model: String
    var lastUserText: String
    /// Whitespace-separated words in all messages' text, system included: the fake's prompt token count.
    var promptTokens: Int
    var hasTools: Bool
    var stream: Bool
    /// OpenAI `stream_options.include_usage`.
    var includeUsage: Bool = false
}
