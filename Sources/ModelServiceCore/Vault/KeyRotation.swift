import Foundation
import Logging

/// Re-encrypts every stored key under the current master-key version, then retires the old versions.
///
/// Rows are visited in id order in small batches, each committed on its own, and a row is rewritten
/// only if its ciphertext is still the one read: a kill -9 loses at most the open batch, a rerun
/// continues where it stopped, and a key edited meanwhile is left as its editor wrote it.
public struct KeyRotation: Sendable {
    public struct Report: Sendable {
        public var currentVersion: Int
        public var reencrypted = 0
        /// Rows no loaded key opens: they keep their version, which is then not retired.
        public var undecryptable: [String] = []
        public var retiredVersions: [Int] = []
    }

    package let database: Database
    package let keyring: Keyring
    package let batchSize: Int
    /// Test hook: after this many re-encrypted rows, report and sleep so a test can kill the process.
    package let pauseAfterRows: Int?

    public init(database: Database, keyring: Keyring, batchSize: Int = 50, pauseAfterRows: Int? = nil) {
        self.database = database
        self.keyring = keyring
        self.batchSize = max(1, batchSize)
        self.pauseAfterRows = pauseAfterRows
    }

    /// `ROTATION_TEST_PAUSE_AFTER_ROWS`, a test hook: nil in production, whatever it says.
    public static func testPause(environment: [String: String]) -> Int? {
        guard !EncryptionSecretPolicy.isProduction(environment: environment) else { return nil }
        return environment["ROTATION_TEST_PAUSE_AFTER_ROWS"].flatMap { Int($0) }
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let cipher = KeyCipher(keyring: keyring)
        let version = keyring.current.version
        var report = Report(currentVersion: version)
        var cursor = ""
        var paused = false
        while true {
            let after = cursor
            let batch = try await database.run { try await APIKeyStore.batchNotUnder(version: version, after: after, limit: batchSize, on: $0) }
            guard let last = batch.last else { break }
            cursor = last.id
            let written = try await database.transaction { sql in
                var written = 0
                var undecryptable: [String] = []
                for row in batch {
                    guard let fresh = try? cipher.reencrypt(row.encryptedKey, binding: row.binding) else {
                        undecryptable.append(row.id)
                        continue
                    }
                    if try await APIKeyStore.replaceCiphertext(id: row.id, from: row.encryptedKey, to: fresh, version: version, on: sql) {
                        written += 1
                    }
                }
                if written > 0 {
                    try await ChangeFeed.bump(APIKeyStore.changeCounter, on: sql)
                    try await AuditLog.write(
                        .rotate, actor: .commandLine, subject: .init(keyId: nil, owner: nil, provider: nil), result: "ok",
                        detail: "re-encrypted \(written) keys under master key version \(version)", on: sql)
                }
                return (written, undecryptable)
            }
            report.reencrypted += written.0
            report.undecryptable += written.1
            progress("re-encrypted \(report.reencrypted) keys so far")
            if let pauseAfterRows, !paused, report.reencrypted >= pauseAfterRows {
                paused = true
                progress("pausing after \(report.reencrypted) keys (ROTATION_TEST_PAUSE_AFTER_ROWS)")
                try await Task.sleep(for: .seconds(3600))
            }
        }
        try await reencryptWebhookSecrets(cipher: cipher, into: &report)
        report.retiredVersions = try await retireUnused(currentVersion: version)
        return report
    }

    /// Webhook signing secrets are sealed by the same keyring: moved the same way, so no version they use is retired.
    private func reencryptWebhookSecrets(cipher: KeyCipher, into report: inout Report) async throws {
        let version = keyring.current.version
        var cursor = ""
        while true {
            let after = cursor
            let batch = try await database.run { try await WebhookRows.batchNotUnder(version: version, after: after, limit: batchSize, on: $0) }
            guard let last = batch.last else { break }
            cursor = last.id
            let (written, undecryptable) = try await database.transaction { sql -> (Int, [String]) in
                var written = 0
                var undecryptable: [String] = []
                for row in batch {
                    let binding = WebhookSignature.binding(webhookId: row.id)
                    guard let fresh = try? cipher.reencrypt(row.ciphertext, binding: binding) else {
                        undecryptable.append(row.id)
                        continue
                    }
                    if try await WebhookRows.replaceSecret(id: row.id, from: row.ciphertext, to: fresh, version: version, on: sql) { written += 1 }
                }
                if written > 0 {
                    try await AuditLog.write(
                        .rotate, actor: .commandLine, subject: .init(type: "webhook", id: nil), result: "ok",
                        detail: "re-encrypted \(written) webhook secrets under master key version \(version)", on: sql)
                }
                return (written, undecryptable)
            }
            report.reencrypted += written
            report.undecryptable += undecryptable
        }
    }

    /// Retires every active version other than `currentVersion` that no row uses any more.
    private func retireUnused(currentVersion: Int) async throws -> [Int] {
        try await database.exclusively(key: VaultUnlock.lockKey) { sql in
            let counts = try await APIKeyStore.countsByVersion(on: sql)
                .merging(try await WebhookRows.countsByVersion(on: sql), uniquingKeysWith: +)
            var retired: [Int] = []
            for version in try await MasterKeyVersion.all(on: sql) where version.isActive && version.version != currentVersion {
                if counts[version.version, default: 0] == 0 {
                    try await MasterKeyVersion.retire(version: version.version, on: sql)
                    retired.append(version.version)
                }
            }
            return retired
        }
    }
}
