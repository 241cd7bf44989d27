import Logging

/// The resolved master secrets, and where the current one came from.
///
/// `description` never shows a secret; `source` is there so start-up can say which secret is in use.
public struct EncryptionSecrets: Sendable, CustomStringConvertible {
    public enum Source: Sendable, Hashable {
        case environment
        /// Development only: the secret lives in `path`; `generated` is true when this start created it.
        case file(path: String, generated: Bool)
    }

    public let current: Secret
    /// `ENCRYPTION_SECRET_PREVIOUS`, set only while a rotation is in progress.
    public let previous: Secret?
    public let source: Source

    /// True when this call created the development secret file: the caller logs one warning.
    public var generated: Bool {
        if case .file(_, true) = source { return true }
        return false
    }

    public var description: String {
        switch source {
        case .environment: "EncryptionSecrets(from environment, previous: \(previous == nil ? "none" : "<redacted>"))"
        case .file(let path, _): "EncryptionSecrets(from \(path), previous: \(previous == nil ? "none" : "<redacted>"))"
        }
    }

    /// Logs the single warning a generated development secret deserves; does nothing otherwise.
    public func logWarningIfGenerated(to logger: Logger) {
        guard case .file(let path, true) = source else { return }
        logger.warning(
            "ENCRYPTION_SECRET is not set: generated a development secret; keep this file, losing it makes stored API keys unreadable",
            metadata: ["vault.secret_file": "\(path)"]
        )
    }
}
