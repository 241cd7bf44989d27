import Foundation
import Logging
import PostgresNIO
@testable import ModelService
@testable import ModelServiceCore

/// Superuser statements on the test PostgreSQL server, for tests that cut a database off and restore it.
enum PostgresAdmin {
    /// The database name in a `postgres://…/name` URL (made of [a-z0-9_] by ``TestDatabase``).
    static func databaseName(_ url: String) throws -> String {
        guard let name = URLComponents(string: url)?.path.dropFirst(), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw TestFailure("not a test database URL")
        }
        return String(name)
    }

    /// Runs statements on the server's own database (not the test one), returning the first column of the last.
    @discardableResult
    static func run(_ statements: [String]) async throws -> [Int] {
        guard let serverURL = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"],
            case .postgres(let server) = try DatabaseLocation.parse(serverURL, dataDirectory: "/tmp")
        else { throw TestFailure("TEST_DATABASE_URL is not a postgres URL") }
        var configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password?.reveal,
            database: server.database, tls: .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        let logger = Logger(label: "test.postgres.admin")
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        var result: [Int] = []
        do {
            for statement in statements {
                result = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) {
                    result.append((try? row.decode(Int.self)) ?? 0)
                }
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return result
    }

    /// Refuses new connections to the database and ends the open ones: to the service, the database is gone.
    static func cut(_ url: String) async throws {
        let name = try databaseName(url)
        try await run([
            "ALTER DATABASE \(name) ALLOW_CONNECTIONS false",
            "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE datname = '\(name)'",
        ])
    }

    static func restore(_ url: String) async throws {
        try await run(["ALTER DATABASE \(try databaseName(url)) ALLOW_CONNECTIONS true"])
    }

    /// Sessions ever opened to the database (PostgreSQL 14+ statistics; a closed session is always counted).
    static func sessionsOpened(_ url: String) async throws -> Int {
        try await run(["SELECT sessions::int FROM pg_stat_database WHERE datname = '\(try databaseName(url))'"]).first ?? 0
    }

    /// Server connections open to the database right now.
    static func connectionCount(_ url: String) async throws -> Int {
        try await run(["SELECT count(*)::int FROM pg_stat_activity WHERE datname = '\(try databaseName(url))'"]).first ?? 0
    }
}
