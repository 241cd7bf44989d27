import NIOCore

/// Which conversation a call belongs to, for prompt-cache affinity: the caller, and the client's own key
/// when it sends one (`prompt_cache_key`, `metadata.user_id`), else the system prompt and the conversation's
/// first messages. A client re-sends a conversation's history on every turn, so its first messages are
/// the same bytes each time. Hashed from bounded prefixes: the cost does not grow with the conversation.
///
/// Hashed with this process's seed: affinity lives in one instance's memory, and so does the key.
public enum ConversationKey {
    /// Bytes of one value that count towards the key; past it, two conversations alike so far are one.
    static let prefixBytes = 4_096

    public static func of(_ body: ByteBuffer, caller: String) -> Int? {
        let members = JSONObjectEditor.memberValues(["prompt_cache_key", "metadata", "system", "instructions", "messages", "input"], in: body)
        var hasher = Hasher()
        hasher.combine(caller)
        if let explicit = members["prompt_cache_key"] ?? members["metadata"].flatMap({ userId(in: body, metadata: $0) }) {
            hasher.combine(0)
            combine(body, explicit, into: &hasher)
            return hasher.finalize()
        }
        let system = members["system"] ?? members["instructions"]
        let messages = members["messages"] ?? members["input"]
        guard system != nil || messages != nil else { return nil }
        hasher.combine(1)
        if let system { combine(body, system, into: &hasher) }
        if let messages {
            let elements = JSONObjectEditor.arrayElements(messages, in: body, limit: 2)
            if elements.isEmpty {
                combine(body, messages, into: &hasher)  // a string `input`
            } else {
                combine(body, elements[0], into: &hasher)
                // A leading system message is shared by every conversation of an application: the first turn after it tells them apart.
                if elements.count > 1, isSystemMessage(body, elements[0]) { combine(body, elements[1], into: &hasher) }
            }
        }
        return hasher.finalize()
    }

    private static func combine(_ body: ByteBuffer, _ range: Range<Int>, into hasher: inout Hasher) {
        let length = min(range.count, prefixBytes)
        body.withUnsafeReadableBytes { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<(range.lowerBound + length)]))
        }
    }

    private static func slice(_ body: ByteBuffer, _ range: Range<Int>) -> ByteBuffer? {
        body.getSlice(at: body.readerIndex + range.lowerBound, length: range.count)
    }

    private static func userId(in body: ByteBuffer, metadata: Range<Int>) -> Range<Int>? {
        guard let object = slice(body, metadata), let value = JSONObjectEditor.memberValue("user_id", in: object) else { return nil }
        return (metadata.lowerBound + value.lowerBound)..<(metadata.lowerBound + value.upperBound)
    }

    private static func isSystemMessage(_ body: ByteBuffer, _ element: Range<Int>) -> Bool {
        guard let message = slice(body, element), let role = JSONObjectEditor.memberValue("role", in: message) else { return false }
        return message.withUnsafeReadableBytes { bytes in
            let value = bytes[role]
            return value.elementsEqual(#""system""#.utf8) || value.elementsEqual(#""developer""#.utf8)
        }
    }
}
