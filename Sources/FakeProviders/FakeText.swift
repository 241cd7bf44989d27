/// Word counting and splitting shared by all formats, done on UTF-8 bytes because it runs on every request.
enum FakeText {
    /// Number of whitespace-separated words.
    static func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for byte in text.utf8 {
            let isSpace = byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
            if !isSpace && !inWord { count += 1 }
            inWord = !isSpace
        }
        return count
    }

    /// Splits before each word that follows whitespace, so the pieces joined give back `text` exactly.
    static func wordPieces(_ text: String) -> [Substring] {
        var pieces: [Substring] = []
        var start = text.startIndex
        var previousIsSpace = false
        var index = text.startIndex
        while index < text.endIndex {
            let isSpace = text[index].isWhitespace
            if !isSpace && previousIsSpace && index != start {
                pieces.append(text[start..<index])
                start = index
            }
            previousIsSpace = isSpace
            index = text.index(after: index)
        }
        if start < text.endIndex || pieces.isEmpty { pieces.append(text[start...]) }
        return pieces
    }

    /// The text of a message `content` that is a string or an array of `{type:"text", text}` parts.
    static func text(ofContent content: Any?) -> String {
        if let string = content as? String { return string }
        guard let parts = content as? [Any] else { return "" }
        var texts: [String] = []
        for case let part as [String: Any] in parts {
            if let text = part["text"] as? String { texts.append(text) }
        }
        return texts.joined(separator: " ")
    }
}
