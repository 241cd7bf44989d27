import Logging
import Synchronization
import Testing
@testable import ModelServiceCore

/// The text format's wrapper: a logger's metadata reaches every written line, and setting it (as each request does)
/// never touches the wrapped handler, which would format all of it again on each change.
@Suite struct DeferredMetadataLogHandlerTests {
    @Test func metadataReachesWrittenLinesAndSettingItNeverTouchesTheWrappedHandler() {
        let recorder = LineRecorder()
        var logger = Logger(label: "test") { _ in DeferredMetadataLogHandler(wrapping: RecordingHandler(recorder: recorder)) }
        logger.logLevel = .info
        logger[metadataKey: "request.id"] = "r-1"
        logger[metadataKey: "token.id"] = "t-1"
        logger.debug("below the level: not written")
        logger.info("written", metadata: ["token.id": "given with the line"])
        logger.warning("plain")

        #expect(recorder.state.withLock { $0.metadataChanges } == 0)
        let lines = recorder.state.withLock { $0.lines }
        #expect(lines.map(\.message) == ["written", "plain"])
        #expect(lines.first?.metadata == ["request.id": "r-1", "token.id": "given with the line"])
        #expect(lines.last?.metadata == ["request.id": "r-1", "token.id": "t-1"])
        #expect(logger[metadataKey: "request.id"] == "r-1")
    }
}

private final class LineRecorder: Sendable {
    struct State {
        var lines: [(message: String, metadata: Logger.Metadata)] = []
        var metadataChanges = 0
    }
    let state = Mutex(State())
}

/// Records the lines it is given and counts changes to its own metadata.
private struct RecordingHandler: LogHandler {
    let recorder: LineRecorder
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:] {
        didSet { recorder.state.withLock { $0.metadataChanges += 1 } }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.state.withLock { $0.lines.append(("\(event.message)", event.metadata ?? [:])) }
    }
}
