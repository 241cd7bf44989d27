import ArgumentParser
import Foundation
import ModelService
import ModelServiceCore

/// Writes one line to stdout at once (stdout to a pipe is block-buffered, and a test reads progress live).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct RotateEncryptionKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-encryption-key",
        abstract: "Re-encrypt every stored key under ENCRYPTION_SECRET (old secret in ENCRYPTION_SECRET_PREVIOUS), then retire the old version.",
        discussion: "Idempotent and resumable: after a crash, run it again. The service keeps working while it runs if it was started with both secrets."
    )

    @Option(help: "Keys re-encrypted per committed batch.") var batchSize: Int = 50

    func validate() throws {
        if batchSize <= 0 { throw ValidationError("--batch-size must be positive") }
    }

    func run() async throws {
        let batchSize = batchSize
        await CommandSupport.withComponents { components in
            let environment = components.configuration.environment
            let outcome = try await components.vault.unlock(environment: environment, dataDirectory: components.configuration.dataDirectory)
            let current = outcome.keyring.current.version
            if let registered = outcome.registeredVersion {
                say("registered master key version \(registered) for the new ENCRYPTION_SECRET")
            }
            say("re-encrypting stored keys into master key version \(current) (loaded versions: \(outcome.keyring.versions.map(String.init).joined(separator: ", ")))")
            let pause = KeyRotation.testPause(environment: environment)
            let rotation = KeyRotation(database: components.database, keyring: outcome.keyring, batchSize: batchSize, pauseAfterRows: pause)
            let report = try await rotation.run(progress: { say($0) })
            say("re-encrypted \(report.reencrypted) keys; every other key was already under version \(current)")
            for version in report.retiredVersions {
                say("retired master key version \(version): its secret (ENCRYPTION_SECRET_PREVIOUS) is no longer needed")
            }
            if !report.undecryptable.isEmpty {
                CommandSupport.fail(
                    RotationIncomplete(count: report.undecryptable.count, ids: report.undecryptable, missingVersions: outcome.missingVersions))
            }
            say("rotation complete: every stored key is under master key version \(current)")
        }
    }
}

/// Rotation left keys no loaded secret opens; names them so an operator can fix or replace them.
struct RotationIncomplete: Error, CustomStringConvertible {
    let count: Int
    let ids: [String]
    let missingVersions: [Int]

    var description: String {
        let hint = missingVersions.isEmpty ? "" : " (versions \(missingVersions.map(String.init).joined(separator: ", ")) are not loaded: set ENCRYPTION_SECRET_PREVIOUS)"
        return "\(count) keys could not be decrypted and were left as they are\(hint): \(ids.joined(separator: ", "))"
    }
}

struct ImportEnvKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-env-keys",
        abstract: "Copy provider keys found in the environment (OPENAI_API_KEY, ...) into shared keys, once."
    )

    func run() async throws {
        await CommandSupport.withComponents { components in
            let environment = components.configuration.environment
            try await components.vault.unlock(environment: environment, dataDirectory: components.configuration.dataDirectory)
            try await components.registry.reload()
            try await components.vault.reload()
            let lines = try await EnvironmentKeyImport(vault: components.vault).run(environment: environment, models: components.registry.snapshot.models)
            if lines.isEmpty {
                say("no provider keys found in the environment")
            }
            for line in lines {
                let verb = line.imported ? "imported" : "already imported"
                say("\(verb) \(line.variable) as a shared \(line.provider.rawValue) key \(line.keyPrefix)")
            }
        }
    }
}
