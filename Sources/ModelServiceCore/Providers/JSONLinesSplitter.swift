import NIOCore

/// Splits a newline-delimited JSON body (Ollama's stream) into one buffer per non-empty line,
/// across buffer boundaries, without copying bytes into strings. Each byte is scanned once, and a
/// line longer than `maxLineBytes` ends the stream with an error (see ``ServerSentEventParser``).
public struct JSONLinesSplitter: Sendable {
    public let maxLineBytes: Int
    private var pending = ByteBuffer()
    /// Bytes at the start of `pending` already known to hold no newline.
    private var scanned = 0

    public init(maxLineBytes: Int = ServerSentEventParser.defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    public mutating func push(_ buffer: ByteBuffer) throws -> [ByteBuffer] {
        var buffer = buffer
        pending.writeBuffer(&buffer)
        var lines: [ByteBuffer] = []
        while true {
            let view = pending.readableBytesView
            guard let end = view[(view.startIndex + scanned)...].firstIndex(of: UInt8(ascii: "\n")) else {
                scanned = view.count
                break
            }
            scanned = 0
            if end - pending.readerIndex > maxLineBytes { throw ServerSentEventParser.tooLong(maxLineBytes) }
            guard let line = pending.readSlice(length: end - pending.readerIndex) else { break }
            pending.moveReaderIndex(forwardBy: 1)
            if let trimmed = Self.trimmed(line) { lines.append(trimmed) }
        }
        if pending.readableBytes > maxLineBytes { throw ServerSentEventParser.tooLong(maxLineBytes) }
        if pending.readerIndex > 0 { pending.discardReadBytes() }
        return lines
    }

    /// The last line when the body does not end with a newline.
    public mutating func finish() -> [ByteBuffer] {
        defer {
            pending.clear()
            scanned = 0
        }
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
