import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `MAX_CONNECTIONS` on the real `serve` process (the in-process test server does not take the
/// connection delegate): past the cap a new connection is not served until an open one closes.
@Suite struct ServeConnectionLimitTests {
    @Test(.timeLimit(.minutes(2)))
    func connectionsPastTheCapWaitUntilOneCloses() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let databaseURL = "sqlite://" + directory.appendingPathComponent("serve.sqlite").path
        var environment = TestApp.environment(databaseURL: databaseURL)
        environment["LOG_LEVEL"] = "info"
        environment["SEED_ON_START"] = "false"
        environment["MAX_CONNECTIONS"] = "2"
        environment["HTTP_HEADER_TIMEOUT_SECONDS"] = "120"
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let output = directory.appendingPathComponent("serve.log")
        let process = try KeyRotationTests.launch(["serve"], environment: environment, output: output)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let port = try await ServeLaunch.waitForPort(of: process, output: output)

        var first: RawSocket? = try RawSocket(port: port)
        let second = try RawSocket(port: port)
        // Both accepted: the server answers on each.
        for socket in [first!, second] {
            try socket.send("GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            guard case .data(let answer) = await socket.read() else { throw TestFailure("no answer within the cap") }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
        let third = try RawSocket(port: port, receiveTimeoutSeconds: 3)
        try third.send("GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        #expect(await third.read() == .timedOut, "a third connection must wait while two are open")
        first = nil  // closes it
        _ = first
        let waited = try await eventually(timeout: .seconds(30)) {
            if case .data(let answer) = await third.read() { return answer.hasPrefix("HTTP/1.1 200") }
            return false
        }
        #expect(waited != nil, "the waiting connection is served once one closes")
        let log = try String(contentsOf: output, encoding: .utf8)
        #expect(log.contains("connection limit reached"))
        kill(process.processIdentifier, SIGTERM)
        #expect(await ChildProcess.finish(process, within: .seconds(20)), "serve did not exit after SIGTERM")
    }
}
