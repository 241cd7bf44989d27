import Foundation

/// Where the data lives, parsed from `DATABASE_URL`.
///
/// Unset → a SQLite file under the data directory; `sqlite://PATH` → that file; `postgres://` or
/// `postgresql://` → PostgreSQL. The password is kept as a ``Secret`` so the value never prints.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    public struct PostgresLocation: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: Secret?
        public var database: String
        /// `sslmode=require` (or `verify-full`) in the URL turns TLS on; the default is a plain connection.
        public var requireTLS: Bool
    }

    /// Parses `DATABASE_URL`; `nil`/empty means the default SQLite file in `dataDirectory`.
    public static func parse(_ url: String?, dataDirectory: String) throws(DatabaseLocationError) -> DatabaseLocation {
        guard let url, !url.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .sqlite(path: (dataDirectory as NSString).appendingPathComponent("model-service.sqlite"))
        }
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite://") {
            let path = String(trimmed.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw .invalid("sqlite:// URL has no file path (write sqlite:///absolute/path.sqlite)") }
            return .sqlite(path: path)
        }
        guard trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") else {
            throw .invalid("DATABASE_URL must start with postgres://, postgresql:// or sqlite://")
        }
        guard let components = URLComponents(string: trimmed), let host = components.host, !host.isEmpty else {
            throw .invalid("DATABASE_URL is not a valid postgres URL (expected postgres://user:password@host:5432/database)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw .invalid("DATABASE_URL names no database (expected postgres://user:password@host:5432/database)") }
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        return .postgres(
            PostgresLocation(
                host: host,
                port: components.port ?? 5432,
                username: components.user?.removingPercentEncoding ?? "postgres",
                password: components.password.map { Secret($0.removingPercentEncoding ?? $0) },
                database: database.removingPercentEncoding ?? database,
                requireTLS: ["require", "verify-ca", "verify-full"].contains(sslMode)
            )
        )
    }

    public var dialect: SQLDialectKind {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// A printable form with no password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite file \(path)"
        case .postgres(let location): "postgres \(location.host):\(location.port)/\(location.database)"
        }
    }
}

public enum SQLDialectKind: String, Sendable {
    case sqlite, postgres
}

public enum DatabaseLocationError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): message
        }
    }
}
