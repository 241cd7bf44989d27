import NIOCore

/// Splits a newline-delimited JSON body (Ollama's stream) into one buffer per non-empty line,
/// across buffer boundaries, without copying bytes into strings.
public struct JSONLinesSplitter: Sendable {
    private var pending = ByteBuffer()

    public init() {}

    public mutating func push(_ buffer: ByteBuffer) -> [ByteBuffer] {
        var buffer = buffer
        pending.writeBuffer(&buffer)
        var lines: [ByteBuffer] = []
        while let end = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            guard let line = pending.readSlice(length: end - pending.readerIndex) else { break }
            pending.moveReaderIndex(forwardBy: 1)
            if let trimmed = Self.trimmed(line) { lines.append(trimmed) }
        }
        pending.discardReadBytes()
        return lines
    }

    /// The last line when the body does not end with a newline.
    public mutating func finish() -> [ByteBuffer] {
        defer { pending.clear() }
        return Self.trimmed(pending).map { [$0] } ?? []
    }

    private static func trimmed(_ line: ByteBuffer) -> ByteBuffer? {
        let view = line.readableBytesView
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }
        guard let first = view.firstIndex(where: { !isSpace($0) }), let last = view.lastIndex(where: { !isSpace($0) }) else {
            return nil
        }
        return line.getSlice(at: first, length: last - first + 1)
    }
}
