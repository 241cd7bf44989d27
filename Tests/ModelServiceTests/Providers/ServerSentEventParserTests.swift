import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct ServerSentEventParserTests {
    private func parse(_ text: String, pieceSize: Int) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for piece in pieces(of: text, size: pieceSize) { events += try parser.push(piece) }
        return events + parser.finish()
    }

    @Test(arguments: [1, 2, 3, 5, 64])
    func splitsAcrossBuffersWithCRLFAndComments(pieceSize: Int) throws {
        let text = ": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: first\r\ndata: second\r\n\r\n:comment\n\ndata:no-space\n\n"
        let events = try parse(text, pieceSize: pieceSize)
        #expect(events.map(\.text) == ["{\"a\":1}", "first\nsecond", "no-space"])
        #expect(events.map(\.event) == ["message_start", nil, nil])
    }

    @Test func handlesBareCRAndCRSplitFromLF() throws {
        var parser = ServerSentEventParser()
        var events = try parser.push(buffer("data: a\r"))
        events += try parser.push(buffer("\n\r"))
        events += try parser.push(buffer("\ndata: b\r\r"))
        #expect(events.map(\.text) == ["a", "b"])
    }

    @Test func deliversUnterminatedLastEventAtEnd() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.push(buffer("data: [DONE]")).isEmpty)
        #expect(parser.finish().map(\.text) == ["[DONE]"])
    }

    @Test func ignoresCommentsAndUnknownFields() throws {
        let events = try parse(": ping\nid: 7\nretry: 10\n\n", pieceSize: 4)
        #expect(events.isEmpty)
    }

    @Test(arguments: [1, 4, 100])
    func splitsJSONLines(pieceSize: Int) throws {
        var splitter = JSONLinesSplitter()
        var lines: [ByteBuffer] = []
        for piece in pieces(of: "{\"a\":1}\r\n\n  {\"b\":2}\n{\"c\":3}", size: pieceSize) { lines += try splitter.push(piece) }
        lines += splitter.finish()
        #expect(lines.map { String(buffer: $0) } == ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
    }

    /// A line that never ends is refused once it passes the limit, however it is split; the bytes
    /// kept never exceed the limit plus one read.
    @Test(arguments: [1, 7, 4096])
    func anEndlessLineIsCutAtTheLimit(pieceSize: Int) throws {
        var parser = ServerSentEventParser(maxLineBytes: 10_000)
        var sse = ServerSentEventParser(maxLineBytes: 10_000)
        _ = try sse.push(buffer("data: ok\n\n"))
        var splitter = JSONLinesSplitter(maxLineBytes: 10_000)
        let piece = ByteBuffer(repeating: UInt8(ascii: "x"), count: pieceSize)
        var sent = 0
        var parserFailed = false
        var splitterFailed = false
        while sent <= 10_000 + pieceSize, !(parserFailed && splitterFailed) {
            if !parserFailed {
                do { _ = try parser.push(piece) } catch { parserFailed = true }
            }
            if !splitterFailed {
                do { _ = try splitter.push(piece) } catch { splitterFailed = true }
            }
            sent += pieceSize
        }
        #expect(parserFailed && splitterFailed)
        #expect(sent <= 10_000 + 2 * pieceSize)
        // Many short `data:` lines that never close the event are bounded the same way.
        var lines = ""
        for _ in 0..<2_000 { lines += "data: 0123456789\n" }
        #expect(throws: ProviderError.self) { _ = try sse.push(buffer(lines)) }
    }

    /// Lines under the limit still pass when the limit is small.
    @Test func linesUnderTheLimitPass() throws {
        var parser = ServerSentEventParser(maxLineBytes: 64)
        #expect(try parser.push(buffer("data: \(String(repeating: "a", count: 50))\n\n")).count == 1)
    }
}
