import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `rotate-encryption-key` as a real process: killed with SIGKILL halfway, rerun, then every key
/// opens with the new secret alone, and the old secret is refused.
@Suite struct KeyRotationTests {
    static let keyCount = 12

    /// The CLI built by `swift build` next to the test bundle (or under `.build/debug` of this package).
    static func binary() throws -> URL {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        var candidates = [packageRoot.appendingPathComponent(".build/debug/model-service")]
        if let executable = Bundle.main.executableURL {
            candidates.insert(executable.deletingLastPathComponent().appendingPathComponent("model-service"), at: 0)
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("model-service"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestFailure("model-service binary not found (run `swift build` first); looked in \(candidates.map(\.path))")
        }
        return found
    }

    /// Starts the CLI with `arguments` and `environment`, stdout and stderr into `output`.
    static func launch(_ arguments: [String], environment: [String: String], output: URL) throws -> Process {
        try ChildProcess.start(try binary(), arguments, environment: environment, output: output)
    }

    /// Runs the CLI to its end (``ChildProcess/finish(_:within:)``'s limit) and returns its status and what it printed.
    static func runToEnd(_ arguments: [String], environment: [String: String], output: URL) async throws -> (status: Int32, output: String) {
        let process = try launch(arguments, environment: environment, output: output)
        guard await ChildProcess.finish(process) else { throw TestFailure("model-service \(arguments) did not end") }
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    @Test(arguments: TestDatabase.available)
    func rotationSurvivesKillNineAndLeavesEveryKeyUnderTheNewSecretOnly(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let ids = try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil)) { client, _ in
            var ids: [String] = []
            for index in 0..<Self.keyCount {
                let owner: String? = index % 4 == 0 ? nil : "user-\(index % 3)"
                ids.append(try await VaultAPI.store(client, userId: owner, name: "key-\(index)", key: "sk-rotate-\(index)-0123456789").id)
            }
            return ids
        }
        let base = TestApp.environment(databaseURL: url, extra: ["ENCRYPTION_KDF_COST": "fast-for-tests", "LOG_LEVEL": "warning"])
        var rotating = base
        rotating["ENCRYPTION_SECRET"] = VaultAPI.secretB
        rotating["ENCRYPTION_SECRET_PREVIOUS"] = VaultAPI.secretA
        rotating["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        // 1. Start, let it commit two batches of 3, then SIGKILL while it sleeps.
        var paused = rotating
        paused["ROTATION_TEST_PAUSE_AFTER_ROWS"] = "6"
        let firstOutput = directory.appendingPathComponent("first.log")
        let first = try Self.launch(["rotate-encryption-key", "--batch-size", "3"], environment: paused, output: firstOutput)
        let reachedPause = try await eventually(timeout: .seconds(60)) {
            (try? String(contentsOf: firstOutput, encoding: .utf8))?.contains("pausing after") ?? false
        }
        kill(first.processIdentifier, SIGKILL)
        await ChildProcess.finish(first)
        let firstLog = (try? String(contentsOf: firstOutput, encoding: .utf8)) ?? ""
        try #require(reachedPause != nil, "rotation never paused: \(firstLog)")
        #expect(first.terminationReason == .uncaughtSignal)

        // Halfway: both versions in use, and a service holding both secrets serves every key.
        try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil, extra: ["ENCRYPTION_SECRET": VaultAPI.secretB, "ENCRYPTION_SECRET_PREVIOUS": VaultAPI.secretA])) { client, components in
            let counts = try await components.database.run { try await APIKeyStore.countsByVersion(on: $0) }
            #expect(counts == [1: Self.keyCount - 6, 2: 6], "\(counts)")
            for (index, id) in ids.enumerated() {
                let decrypted = try await VaultAPI.decrypt(client, id)
                #expect(try decodeJSON(VaultAPI.Decrypted.self, decrypted.body).apiKey == "sk-rotate-\(index)-0123456789")
            }
        }

        // 2. Rerun to the end: it resumes, finishes and retires version 1.
        let secondOutput = directory.appendingPathComponent("second.log")
        let second = try Self.launch(["rotate-encryption-key", "--batch-size", "3"], environment: rotating, output: secondOutput)
        try #require(await ChildProcess.finish(second))
        let secondLog = try String(contentsOf: secondOutput, encoding: .utf8)
        #expect(second.terminationStatus == 0, "\(secondLog)")
        #expect(secondLog.contains("re-encrypted \(Self.keyCount - 6) keys"), "\(secondLog)")
        #expect(secondLog.contains("retired master key version 1"), "\(secondLog)")
        #expect(!secondLog.contains("0123456789"))
        // A third run has nothing to do.
        let thirdOutput = directory.appendingPathComponent("third.log")
        let third = try Self.launch(["rotate-encryption-key"], environment: rotating, output: thirdOutput)
        try #require(await ChildProcess.finish(third))
        #expect(third.terminationStatus == 0)
        #expect(try String(contentsOf: thirdOutput, encoding: .utf8).contains("re-encrypted 0 keys"))

        // 3. The new secret alone opens every key; the old one is refused as retired.
        try await TestApp.run(databaseURL: url, extra: VaultAPI.environment(fakes: nil, extra: ["ENCRYPTION_SECRET": VaultAPI.secretB])) { client, components in
            #expect(components.vault.health.undecryptable == 0 && components.vault.health.keyVersion == 2)
            for (index, id) in ids.enumerated() {
                let decrypted = try await VaultAPI.decrypt(client, id)
                #expect(try decodeJSON(VaultAPI.Decrypted.self, decrypted.body).apiKey == "sk-rotate-\(index)-0123456789")
            }
        }
        let oldSecret = try await VaultStorageTests.startError(url, extra: VaultAPI.environment(fakes: nil))
        #expect(oldSecret as? VaultConfigurationError == .retiredSecret(variable: "ENCRYPTION_SECRET"))
    }
}
