/// Stamps chunks of one stream with the same id, time and model, for adapters that translate formats.
package struct ChunkBuilder: Sendable {
    package var id: String
    package var created: Int
    package var model: String

    package init(id: String = makeCompletionID(), created: Int = currentUnixTime(), model: String) {
        self.id = id
        self.created = created
        self.model = model
    }

    package func delta(_ delta: ChatCompletionChunk.Delta, finishReason: String? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: delta, finishReason: finishReason)])
    }

    package func text(_ text: String) -> ChatCompletionChunk {
        delta(.init(content: text))
    }

    /// The opening chunk: OpenAI's first delta names the role.
    package func roleChunk() -> ChatCompletionChunk {
        delta(.init(role: .assistant, content: ""))
    }

    package func finish(_ reason: String) -> ChatCompletionChunk {
        delta(.init(), finishReason: reason)
    }

    /// OpenAI's trailing usage chunk: no choices, only usage.
    package func usageChunk(_ usage: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: usage)
    }
}
