import AsyncHTTPClient
import FakeProviders
import Foundation
import NIOCore
import SQLiteNIO
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The real `model-service serve` process: its start-up (tasks on the NIO event loops, malloc
/// settings), a chat streamed and not through it, and a SIGTERM that exits cleanly and writes
/// the usage still buffered.
@Suite struct ServeProcessTests {
    @Test func serveAnswersAndShutsDownGracefullyOnSIGTERM() async throws {
        let fakes = try await FakeProviderServer.start()
        do {
            try await check(fakes)
        } catch {
            await fakes.stop()
            throw error
        }
        await fakes.stop()
    }

    func check(_ fakes: RunningFakeProviders) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let databaseURL = "sqlite://" + directory.appendingPathComponent("serve.sqlite").path
        var environment = TestApp.environment(databaseURL: databaseURL, extra: fakes.baseURLs)
        environment["LOG_LEVEL"] = "info"
        environment["OPENAI_API_KEY"] = "sk-serve-test-0123456789"
        environment["USAGE_FLUSH_MS"] = "600000"  // only the shutdown writes usage
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let output = directory.appendingPathComponent("serve.log")
        let process = try KeyRotationTests.launch(["serve"], environment: environment, output: output)

        let bound = try await ServeLaunch.waitForPort(of: process, output: output)

        func post(_ body: String) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(bound)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(TestApp.adminToken)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        let plain = try await post(#"{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}"#)
        #expect(plain.0 == 200 && plain.1.contains("Echo from openai: ping"), "\(plain)")
        let streamed = try await post(#"{"model": "openai/gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "ping"}]}"#)
        #expect(streamed.0 == 200 && streamed.1.hasSuffix("data: [DONE]\n\n"))

        kill(process.processIdentifier, SIGTERM)
        try #require(await ChildProcess.finish(process, within: .seconds(20)), "serve did not exit after SIGTERM")
        #expect(process.terminationStatus == 0)

        let components = try await TestApp.components(databaseURL: databaseURL)
        let count = try await components.withRunning { components in
            try await components.database.run { try await $0.raw("SELECT COUNT(*) AS n FROM usage_records").first()?.decode(column: "n", as: Int.self) }
        }
        #expect(count == 2)
        let log = try String(contentsOf: output, encoding: .utf8)
        #expect(!log.contains(TestApp.adminToken) && !log.contains("sk-serve-test-0123456789"))
    }

    /// A SQLite file another process holds: the start fails within `DATABASE_TIMEOUT_SECONDS`, with one line
    /// naming the file and the cause, and a non-zero exit; it neither hangs nor starts once the lock goes.
    @Test func aLockedSQLiteFileStopsTheStartWithOneLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locked-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("locked.sqlite").path
        let holder = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await holder.query("CREATE TABLE held (x INTEGER)")
        _ = try await holder.query("BEGIN EXCLUSIVE")
        var environment = TestApp.environment(databaseURL: "sqlite://" + path)
        environment["DATABASE_TIMEOUT_SECONDS"] = "2"
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let output = directory.appendingPathComponent("serve.log")
        let process = try KeyRotationTests.launch(["serve"], environment: environment, output: output)
        // Far above the 2 s it takes: the point is that it ends, and how.
        let ended = await ChildProcess.finish(process, within: .seconds(60))
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        _ = try await holder.query("ROLLBACK")
        try await holder.close()
        try #require(ended, "serve went on with the file locked: \(log)")
        #expect(process.terminationStatus != 0)
        let lines = log.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.contains("the SQLite file \(path) is locked by another process") == true, "\(log)")
    }
}
