import NIOCore

/// What the gateway reads from an answer it relays byte for byte (the client asked in the
/// upstream's own format): only the usage, by scanning the top level, never the choices. A full
/// decode of every answer and chunk was the largest single cost of a relayed call.
///
/// Each returns nil when the bytes are not the expected shape; the caller then decodes fully, so a
/// malformed answer fails exactly as before.
extension Usage {
    package init?(relayed raw: ArraySlice<UInt8>) {
        guard let usage = JSONObjectEditor(Array(raw)) else { return nil }
        // A count that is there but not a number: nil, so the full decode reports it as before.
        func count(_ key: String) -> Int?? {
            guard usage.presentValue(key) != nil else { return .some(nil) }
            guard let value = usage.value(key, as: UpstreamCount.self) else { return Int??.none }
            return .some(value.value)
        }
        guard let promptCount = count("prompt_tokens"), let completionCount = count("completion_tokens"), let totalCount = count("total_tokens")
        else { return nil }
        let prompt = promptCount ?? 0
        let completion = completionCount ?? 0
        self.init(
            promptTokens: prompt, completionTokens: completion,
            totalTokens: totalCount,
            cachedTokens: usage.rawValue("prompt_tokens_details").flatMap { JSONObjectEditor(Array($0))?.value("cached_tokens", as: UpstreamCount.self)?.value }
                ?? usage.value("prompt_cache_hit_tokens", as: UpstreamCount.self)?.value,
            reasoningTokens: usage.rawValue("completion_tokens_details").flatMap {
                JSONObjectEditor(Array($0))?.value("reasoning_tokens", as: UpstreamCount.self)?.value
            })
    }
}

extension ChatCompletionResponse {
    /// A relayed answer: its bytes and usage; `choices` stays empty (the client gets the bytes).
    package static func relayed(_ answer: ByteBuffer) -> ChatCompletionResponse? {
        guard let editor = JSONObjectEditor(answer), editor.rawValue("choices")?.first == UInt8(ascii: "[") else { return nil }
        var usage: Usage?
        if let raw = editor.presentValue("usage") {
            guard let scanned = Usage(relayed: raw) else { return nil }
            usage = scanned
        }
        var response = ChatCompletionResponse(id: editor.value("id", as: String.self) ?? "", model: editor.value("model", as: String.self) ?? "", choices: [], usage: usage)
        response.upstreamJSON = answer
        return response
    }
}

extension ChatCompletionChunk {
    /// What a relayed stream does with one `data:` payload.
    package enum Relayed {
        /// Relay these bytes; `usage` is the chunk's, if it carried one.
        case relay(ByteBuffer, usage: Usage?)
        /// A usage-only chunk the client did not ask for: record its usage, send nothing.
        case drop(usage: Usage)
        /// Not a plain chunk on one line (an error object, unreadable usage): decode it fully.
        case decode
    }

    /// Reads a chunk's usage and removes it when the client did not ask for it (`forwardUsage`).
    package static func relayed(_ data: ByteBuffer, forwardUsage: Bool) -> Relayed {
        guard !data.readableBytesView.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }),
            var editor = JSONObjectEditor(data), !editor.contains("error")
        else { return .decode }
        guard let raw = editor.presentValue("usage") else { return .relay(data, usage: nil) }
        guard let usage = Usage(relayed: raw) else { return .decode }
        if forwardUsage { return .relay(data, usage: usage) }
        let choices = editor.rawValue("choices").map { Array($0.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) }
        if choices == nil || choices == Array("[]".utf8) { return .drop(usage: usage) }
        editor.remove("usage")
        return .relay(editor.result(), usage: usage)
    }
}
