import AsyncHTTPClient
import FakeProviders
import Foundation
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The real `serve` process on PostgreSQL: after a poisoned usage row and with the database gone,
/// SIGTERM still exits within the usage shutdown bound, and the records it could not write wait in the pending file.
@Suite struct ServeShutdownTests {
    @Test(.timeLimit(.minutes(3)), arguments: TestDatabase.available.filter { $0 == .postgres })
    func sigtermExitsInTimeAfterAPoisonedRowWithTheDatabaseGone(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let fakes = try await FakeProviderServer.start()
        do {
            try await check(url: url, fakes: fakes)
        } catch {
            try? await PostgresAdmin.restore(url)
            await fakes.stop()
            throw error
        }
        try? await PostgresAdmin.restore(url)
        await fakes.stop()
    }

    func check(url: String, fakes: RunningFakeProviders) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var environment = TestApp.environment(databaseURL: url, extra: fakes.baseURLs)
        environment["DATA_DIR"] = directory.path
        environment["LOG_LEVEL"] = "info"
        environment["OPENAI_API_KEY"] = "sk-serve-test-0123456789"
        environment["USAGE_FLUSH_MS"] = "100"
        environment["DATABASE_TIMEOUT_SECONDS"] = "1"
        environment["USAGE_SHUTDOWN_SECONDS"] = "3"
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let output = directory.appendingPathComponent("serve.log")
        let process = try KeyRotationTests.launch(["serve"], environment: environment, output: output)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let bound = try await ServeLaunch.waitForPort(of: process, output: output)

        func chat(user: String) async throws -> Int {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(bound)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(TestApp.adminToken)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-User-Id", value: user)
            request.body = .bytes(ByteBuffer(string: #"{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }

        let components = try await TestApp.components(databaseURL: url)
        try await components.withRunning { components in
            try await UsageAccountingTests.installPoison(components.database)
        }
        #expect(try await chat(user: "poison") == 200)
        #expect(try await chat(user: "alice") == 200)
        let spill = directory.appendingPathComponent(UsageSpillFile.Kind.deadLetter.rawValue).path
        #expect(try await eventually(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: spill) } != nil)

        // The database goes away; chats go on; SIGTERM must still end the process.
        try await PostgresAdmin.cut(url)
        for _ in 0..<3 { #expect(try await chat(user: "bob") == 200) }
        kill(process.processIdentifier, SIGTERM)
        try #require(await ChildProcess.finish(process, within: .seconds(30)), "serve did not exit after SIGTERM with the database gone")
        #expect(process.terminationStatus == 0)
        // The three calls made during the outage (and alice's, when its flush had not run before the cut).
        #expect(UsageSpillFile(directory: directory.path, logger: TestApp.logger).pendingCount >= 3)
    }
}
