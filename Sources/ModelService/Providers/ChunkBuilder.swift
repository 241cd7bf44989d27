/// Stamps chunks of one stream with the same id, time and model, for adapters that translate formats.
struct ChunkBuilder: Sendable {
    var id: String
    var created: Int
    var model: String

    init(id: String = makeCompletionID(), created: Int = currentUnixTime(), model: String) {
        self.id = id
        self.created = created
        self.model = model
    }

    func delta(_ delta: ChatCompletionChunk.Delta, finishReason: String? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: delta, finishReason: finishReason)])
    }

    func text(_ text: String) -> ChatCompletionChunk {
        delta(.init(content: text))
    }

    /// The opening chunk: OpenAI's first delta names the role.
    func roleChunk() -> ChatCompletionChunk {
        delta(.init(role: .assistant, content: ""))
    }

    func finish(_ reason: String) -> ChatCompletionChunk {
        delta(.init(), finishReason: reason)
    }

    /// OpenAI's trailing usage chunk: no choices, only usage.
    func usageChunk(_ usage: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: usage)
    }
}
