import Foundation

/// The one rule for a user id, wherever one arrives (token creation, vault owners, `user`, `X-User-Id`, the CLI).
///
/// 1 to 200 characters after trimming spaces, no control characters (they forge log lines), and not
/// starting with `@`, which names the vault's own owners (shared keys live under `@shared`).
public enum UserId {
    public static let maxLength = 200

    /// Why `value` is not a user id, or nil when it is one.
    public static func problem(with value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.count > maxLength { return "must be 1 to \(maxLength) characters" }
        if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "must not contain control characters" }
        if trimmed.hasPrefix("@") { return "must not start with @ (reserved)" }
        return nil
    }

    /// The trimmed id, or a 400 naming `field`.
    public static func checked(_ value: String, field: String) throws(APIError) -> String {
        if let problem = problem(with: value) { throw .invalidField(field, problem) }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
