import NIOCore

/// One server-sent event: its `event:` name (nil means "message") and its `data:` lines joined by `\n`.
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    public var data: ByteBuffer

    public init(event: String? = nil, data: ByteBuffer) {
        self.event = event
        self.data = data
    }

    /// The data as text, for `[DONE]` checks and tests.
    public var text: String { String(buffer: data) }
}

/// Incremental SSE parser: feed it body buffers as they arrive, get whole events back.
///
/// Scans bytes rather than building strings, handles `\n`, `\r\n` and `\r` line ends, comments,
/// multi-line `data:` and lines or line ends split across buffers. Each byte is scanned once (the
/// bytes already searched for a line end are not searched again), and a line or an event longer
/// than `maxLineBytes` ends the stream with an error, so a hostile upstream costs bounded memory and linear time.
public struct ServerSentEventParser: Sendable {
    public static let defaultMaxLineBytes = 16 * 1024 * 1024
    public let maxLineBytes: Int
    private var pending = ByteBuffer()
    /// Bytes at the start of `pending` already known to hold no line end.
    private var scanned = 0
    private var eventName: String?
    private var data = ByteBuffer()
    private var hasData = false
    /// The previous buffer ended in `\r`: a `\n` starting the next one belongs to that line end.
    private var skipLeadingLF = false

    public init(maxLineBytes: Int = Self.defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Consumes `buffer` and returns the events it completed; throws when a line or event is too long.
    public mutating func push(_ buffer: ByteBuffer) throws -> [ServerSentEvent] {
        var buffer = buffer
        if skipLeadingLF, buffer.readableBytes > 0 {
            skipLeadingLF = false
            if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == UInt8(ascii: "\n") {
                buffer.moveReaderIndex(forwardBy: 1)
            }
        }
        pending.writeBuffer(&buffer)
        var events: [ServerSentEvent] = []
        while true {
            let view = pending.readableBytesView
            guard let end = view[(view.startIndex + scanned)...].firstIndex(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
                scanned = view.count
                break
            }
            scanned = 0
            let lineLength = end - pending.readerIndex
            if lineLength > maxLineBytes { throw Self.tooLong(maxLineBytes) }
            guard let line = pending.readSlice(length: lineLength), let terminator = pending.readInteger(as: UInt8.self) else { break }
            if terminator == UInt8(ascii: "\r") {
                if let next = pending.getInteger(at: pending.readerIndex, as: UInt8.self) {
                    if next == UInt8(ascii: "\n") { pending.moveReaderIndex(forwardBy: 1) }
                } else {
                    skipLeadingLF = true
                }
            }
            if let event = process(line: line) { events.append(event) }
            if data.readableBytes > maxLineBytes { throw Self.tooLong(maxLineBytes) }
        }
        if pending.readableBytes > maxLineBytes { throw Self.tooLong(maxLineBytes) }
        // Only when something was consumed: a long partial line is then moved once, not on every read.
        if pending.readerIndex > 0 { pending.discardReadBytes() }
        return events
    }

    package static func tooLong(_ limit: Int) -> ProviderError {
        .invalidResponse("the upstream sent a line longer than \(limit) bytes (MAX_UPSTREAM_LINE_BYTES)")
    }

    /// Called at the end of the body: an unterminated last event is still delivered, as upstreams may omit the blank line.
    public mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if pending.readableBytes > 0 {
            let line = pending
            pending.clear()
            scanned = 0
            if let event = process(line: line) { events.append(event) }
        }
        if let event = dispatch() { events.append(event) }
        return events
    }

    private mutating func process(line: ByteBuffer) -> ServerSentEvent? {
        guard let first = line.getInteger(at: line.readerIndex, as: UInt8.self) else { return dispatch() }
        if first == UInt8(ascii: ":") { return nil }
        var line = line
        let colon = line.readableBytesView.firstIndex(of: UInt8(ascii: ":"))
        let nameLength = (colon ?? line.writerIndex) - line.readerIndex
        guard let name = line.readSlice(length: nameLength) else { return nil }
        if colon != nil {
            line.moveReaderIndex(forwardBy: 1)
            if line.getInteger(at: line.readerIndex, as: UInt8.self) == UInt8(ascii: " ") { line.moveReaderIndex(forwardBy: 1) }
        }
        switch name.readableBytesView {
        case _ where name.readableBytesView.elementsEqual("data".utf8):
            if hasData { data.writeInteger(UInt8(ascii: "\n")) }
            data.writeBuffer(&line)
            hasData = true
        case _ where name.readableBytesView.elementsEqual("event".utf8):
            eventName = String(buffer: line)
        default:
            break  // `id:`, `retry:` and unknown fields do not matter to chat streams.
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventName = nil
            hasData = false
            data = ByteBuffer()
        }
        guard hasData else { return nil }
        return ServerSentEvent(event: eventName, data: data)
    }
}
