import PostgresNIO
import SQLiteNIO

/// What a driver error means for the service, in either database: a duplicate, bad data, unavailable.
extension Database {
    /// True when `error` is a UNIQUE constraint violation in either database.
    public static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            return error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw
        }
        if let error = error as? SQLiteError {
            return [.constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed].contains(error.reason)
        }
        return false
    }

    /// True when the database refused a statement for its content (a constraint, an invalid byte, a
    /// value too large), as opposed to being unreachable or busy: retrying the same row cannot help.
    public static func isDataError(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
            // 08 connection, 25 transaction state, 40 rollback, 53 resources, 55 lock, 57 shutdown, 58 system.
            return !["08", "25", "40", "53", "55", "57", "58"].contains(String(state.prefix(2)))
        }
        if let error = error as? SQLiteError {
            switch error.reason {
            case .error, .abort, .tooBig, .mismatch, .range, .constraint: return true
            default: return "\(error.reason)".hasPrefix("constraint")
            }
        }
        return false
    }

    /// True when `error` means the database cannot be reached or is too busy right now (a 503, not a 500).
    public static func isUnavailable(_ error: any Error) -> Bool {
        if error is StorageError { return true }
        // The pool's own errors (circuit breaker tripped, shut down) come from a module not imported here.
        if String(describing: type(of: error)) == "ConnectionPoolError" { return true }
        if let error = error as? PSQLError {
            if error.code == .server, let state = error.serverInfo?[.sqlState] {
                // 55000 is also what a database closed to connections (ALLOW_CONNECTIONS false) answers.
                return ["08", "53", "55", "57", "58"].contains(String(state.prefix(2)))
            }
            let unreachable: [PSQLError.Code] = [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown]
            return unreachable.contains(error.code)
        }
        if let error = error as? SQLiteError {
            switch error.reason {
            case .busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot, .ioError, .cantOpen, .full: return true
            default: return false
            }
        }
        return false
    }

    /// A one-line explanation of a driver error, without query text or bound values.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection:
                return "connection failed (\(error.underlying.map { "\($0)" } ?? "no answer"))"
            default:
                return error.code.description
            }
        }
        return "\(error)"
    }
}
