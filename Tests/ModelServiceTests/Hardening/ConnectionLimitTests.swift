import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Idle keep-alive connections and connections that never finish their request head are closed.
@Suite struct ConnectionLimitTests {
    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["HTTP_IDLE_TIMEOUT_SECONDS": "3", "SEED_ON_START": "false"], live: true) { client, _ in
            let port = try #require(client.port)
            // The read timeout is far beyond the idle timeout, so only the server's close ends the wait early.
            let socket = try RawSocket(port: port, receiveTimeoutSeconds: 30)
            try socket.send("GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n")
            guard case .data(let answer) = await socket.read() else { throw TestFailure("no answer") }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            // Kept alive after the answer, then closed by the server once idle: not left open for the 10 s read timeout.
            #expect(await socket.readUntilClosedOrQuiet() == .closed)
        }
    }

    @Test func aHalfSentRequestHeadIsClosedAfterTheHeaderTimeout() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        let extra = ["HTTP_IDLE_TIMEOUT_SECONDS": "600", "HTTP_HEADER_TIMEOUT_SECONDS": "1", "SEED_ON_START": "false"]
        try await TestApp.run(databaseURL: url, extra: extra, live: true) { client, _ in
            let port = try #require(client.port)
            let socket = try RawSocket(port: port, receiveTimeoutSeconds: 10)
            try socket.send("GET /api/health HTTP/1.1\r\nHost: localhost\r\n")
            #expect(await socket.readUntilClosedOrQuiet() == .closed)
            // A client that finishes its head in time is served as usual.
            let prompt = try RawSocket(port: port, receiveTimeoutSeconds: 10)
            try prompt.send("GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            guard case .data(let answer) = await prompt.read() else { throw TestFailure("no answer") }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func limitsAreReadFromTheEnvironment() throws {
        let configuration = try AppConfiguration(environment: [
            "HTTP_IDLE_TIMEOUT_SECONDS": "5", "HTTP_HEADER_TIMEOUT_SECONDS": "3", "MAX_CONNECTIONS": "7",
            "MAX_API_BODY_BYTES": "100", "MAX_REQUEST_BYTES": "200", "MAX_INFLIGHT_BODY_BYTES": "300",
            "MAX_UPSTREAM_LINE_BYTES": "400", "USAGE_QUEUE_MAX": "9", "DATABASE_TIMEOUT_SECONDS": "2",
        ])
        #expect(configuration.httpIdleTimeout == .seconds(5) && configuration.httpHeaderTimeout == .seconds(3))
        #expect(configuration.maxConnections == 7 && configuration.usageQueueMax == 9)
        #expect(configuration.maxAPIBodyBytes == 100 && configuration.maxRequestBytes == 200 && configuration.maxInflightBodyBytes == 300)
        #expect(configuration.maxUpstreamLineBytes == 400 && configuration.databaseTimeout == .seconds(2))
        let defaults = try AppConfiguration(environment: [:])
        #expect(defaults.httpIdleTimeout == .seconds(60) && defaults.maxAPIBodyBytes == 1024 * 1024)
        #expect(defaults.maxRequestBytes == 32 * 1024 * 1024 && defaults.maxUpstreamLineBytes == 16 * 1024 * 1024)
        #expect(throws: ConfigurationError.self) { try AppConfiguration(environment: ["MAX_CONNECTIONS": "0"]) }
    }
}
