import Foundation
import Testing

/// A `serve` process started by a test (``KeyRotationTests/launch(_:environment:output:)``): the port
/// it printed once listening, read from its log.
enum ServeLaunch {
    static func waitForPort(of process: Process, output: URL) async throws -> Int {
        @Sendable func boundPort() -> Int? {
            let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            guard let range = log.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
            return Int(log[range].split(separator: ":").last ?? "")
        }
        _ = try await eventually(timeout: .seconds(60)) { boundPort() != nil || !process.isRunning }
        return try #require(boundPort(), "serve did not start: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
    }
}
