import Foundation
import Logging
import Synchronization
@testable import ModelService
@testable import ModelServiceCore

/// Collects the lines a ``JSONLogHandler`` writes, for tests.
final class JSONLogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "model-service.test") { label in
            JSONLogHandler(label: label) { line in self.storage.withLock { $0.append(line) } }
        }
        logger.logLevel = level
        return logger
    }
}
