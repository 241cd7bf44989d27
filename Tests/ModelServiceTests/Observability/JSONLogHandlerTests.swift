import Foundation
import Logging
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `LOG_FORMAT=json`: each log call is one line holding one JSON object.
@Suite struct JSONLogHandlerTests {
    @Test func eachLineIsOneJSONObjectWithTheUsualFields() throws {
        let capture = JSONLogCapture()
        var logger = capture.logger(level: .debug)
        logger[metadataKey: "request.id"] = "r-1"
        logger.info("first line\nwith a newline", metadata: ["count": "3", "nested": ["a": "b"], "list": ["x", "y"]])
        logger.trace("below the level")
        logger.warning("second")

        let captured = capture.lines
        #expect(captured.count == 2)
        #expect(captured.allSatisfy { !$0.contains("\n") })
        let first = try #require(try JSONSerialization.jsonObject(with: Data(captured[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "info")
        #expect(first["label"] as? String == "model-service.test")
        #expect(first["message"] as? String == "first line\nwith a newline")
        #expect((first["timestamp"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) } != nil)
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["request.id"] as? String == "r-1")
        #expect(metadata["count"] as? String == "3")
        #expect((metadata["nested"] as? [String: Any])?["a"] as? String == "b")
        #expect(metadata["list"] as? [String] == ["x", "y"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(captured[1].utf8)) as? [String: Any])
        #expect(second["level"] as? String == "warning")
    }

    @Test func logFormatIsReadFromTheEnvironment() throws {
        #expect(try ObservabilitySettings(environment: ["LOG_FORMAT": "json"]).jsonLogs)
        #expect(try !ObservabilitySettings(environment: [:]).jsonLogs)
        #expect(throws: ConfigurationError.self) { try ObservabilitySettings(environment: ["LOG_FORMAT": "xml"]) }
    }
}
