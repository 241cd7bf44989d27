import SQLiteNIO

public enum StorageError: Error, CustomStringConvertible {
    case unavailable(String)
    case migrationFailed(String)

    /// A SQLite file that cannot be used, named with the cause: locked by another process, or not openable.
    package static func sqlite(path: String, _ error: any Error, waited: Duration) -> StorageError {
        if let error = error as? SQLiteError, [.busy, .locked, .busyTimeout].contains(error.reason) || "\(error)".contains("locked") {
            return .unavailable("the SQLite file \(path) is locked by another process (waited \(waited) for it)")
        }
        return .unavailable("cannot use the SQLite file \(path): \(Database.describe(error))")
    }

    public var description: String {
        switch self {
        case .unavailable(let message): "database unavailable: \(message)"
        case .migrationFailed(let message): "database migration failed: \(message)"
        }
    }
}
