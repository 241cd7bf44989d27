import Foundation

/// The one rule for a user id, wherever one arrives (token creation, vault owners, `user`, `X-User-Id`, the CLI).
///
/// 1 to 200 characters (and at most 800 UTF-8 bytes: stacked combining marks overflow index rows) after
/// trimming spaces, no control characters (they forge log lines; NUL stops PostgreSQL writes), and not
/// starting with `@`, which names the vault's own owners (shared keys live under `@shared`).
public enum UserId {
    public static let maxLength = 200

    /// Why `value` is not a user id, or nil when it is one.
    public static func problem(with value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.count > maxLength || trimmed.utf8.count > maxLength * TextInput.bytesPerCharacter {
            return "must be 1 to \(maxLength) characters and at most \(maxLength * TextInput.bytesPerCharacter) bytes of UTF-8"
        }
        if let problem = TextInput.controlCharacterProblem(trimmed, allowLineBreaks: false) { return problem }
        if trimmed.hasPrefix("@") { return "must not start with @ (reserved)" }
        return nil
    }

    /// The trimmed id, or a 400 naming `field`.
    public static func checked(_ value: String, field: String) throws(ServiceError) -> String {
        if let problem = problem(with: value) { throw .invalidField(field, problem) }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
