import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `model-service version` and `--version`, as the real binary prints them: version, commit and the last migration.
@Suite struct VersionCommandTests {
    @Test func versionNamesTheReleaseTheCommitAndTheMigrationLevel() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("version-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var outputs: [String] = []
        for arguments in [["version"], ["--version"]] {
            let output = directory.appendingPathComponent("\(arguments[0]).log")
            // No database and no configuration: printing the version needs neither.
            let process = try KeyRotationTests.launch(arguments, environment: ["PATH": "/usr/bin:/bin"], output: output)
            try #require(await ChildProcess.finish(process, within: .seconds(60)))
            #expect(process.terminationStatus == 0)
            outputs.append(try String(contentsOf: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let expected = "model-service \(ModelServiceVersion.current) (commit "
        #expect(outputs[0].hasPrefix(expected) && outputs[0].hasSuffix("migrations up to \(Migrations.latest))"), "\(outputs[0])")
        #expect(Migrations.latest == Migrations.all.last?.name && Migrations.latest.hasPrefix("022_"))
        #expect(outputs[1] == outputs[0], "--version says the same")
    }
}
