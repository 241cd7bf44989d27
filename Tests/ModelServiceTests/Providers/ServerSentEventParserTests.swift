import NIOCore
import Testing

@testable import ModelService

@Suite struct ServerSentEventParserTests {
    private func parse(_ text: String, pieceSize: Int) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for piece in pieces(of: text, size: pieceSize) { events += parser.push(piece) }
        return events + parser.finish()
    }

    @Test(arguments: [1, 2, 3, 5, 64])
    func splitsAcrossBuffersWithCRLFAndComments(pieceSize: Int) {
        let text = ": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: first\r\ndata: second\r\n\r\n:comment\n\ndata:no-space\n\n"
        let events = parse(text, pieceSize: pieceSize)
        #expect(events.map(\.text) == ["{\"a\":1}", "first\nsecond", "no-space"])
        #expect(events.map(\.event) == ["message_start", nil, nil])
    }

    @Test func handlesBareCRAndCRSplitFromLF() {
        var parser = ServerSentEventParser()
        var events = parser.push(buffer("data: a\r"))
        events += parser.push(buffer("\n\r"))
        events += parser.push(buffer("\ndata: b\r\r"))
        #expect(events.map(\.text) == ["a", "b"])
    }

    @Test func deliversUnterminatedLastEventAtEnd() {
        var parser = ServerSentEventParser()
        #expect(parser.push(buffer("data: [DONE]")).isEmpty)
        #expect(parser.finish().map(\.text) == ["[DONE]"])
    }

    @Test func ignoresCommentsAndUnknownFields() {
        let events = parse(": ping\nid: 7\nretry: 10\n\n", pieceSize: 4)
        #expect(events.isEmpty)
    }

    @Test(arguments: [1, 4, 100])
    func splitsJSONLines(pieceSize: Int) {
        var splitter = JSONLinesSplitter()
        var lines: [ByteBuffer] = []
        for piece in pieces(of: "{\"a\":1}\r\n\n  {\"b\":2}\n{\"c\":3}", size: pieceSize) { lines += splitter.push(piece) }
        lines += splitter.finish()
        #expect(lines.map { String(buffer: $0) } == ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
    }
}
