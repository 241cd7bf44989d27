import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import SQLiteKit
import SQLiteNIO
import ServiceLifecycle
import Synchronization

/// The one SQL layer over SQLite and PostgreSQL.
///
/// Callers write SQLKit queries against the `any SQLDatabase` handed to `run`/`transaction`; the
/// backend decides how a connection is found. SQLite uses one connection (WAL mode) behind an
/// async lock so a transaction never interleaves with another task's statements; PostgreSQL uses a
/// pooled `PostgresClient`, which must be running (see ``service`` and ``withRunning(_:)``).
public final class Database: Sendable {
    private enum Backend: Sendable {
        case sqlite(SQLiteConnection, AsyncLock)
        case postgres(PostgresClient)
    }

    private let backend: Backend
    public let location: DatabaseLocation
    package let logger: Logger
    /// Statements or transactions holding a connection right now, for the metrics endpoint.
    private let inUse = Atomic<Int>(0)
    /// Longest wait for a pooled PostgreSQL connection: an outage answers 503 in seconds, not after the pool's minute.
    package let acquireTimeout: Duration

    public var dialect: SQLDialectKind { location.dialect }

    private init(backend: Backend, location: DatabaseLocation, logger: Logger, acquireTimeout: Duration) {
        self.backend = backend
        self.location = location
        self.logger = logger
        self.acquireTimeout = acquireTimeout
    }

    /// Opens the database. SQLite files (and their folder) are created; PostgreSQL connections are
    /// made lazily by the client once its service runs.
    public static func open(_ location: DatabaseLocation, logger: Logger, acquireTimeout: Duration = .seconds(5)) async throws -> Database {
        switch location {
        case .sqlite(let path):
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw StorageError.unavailable("cannot create the folder \(directory) for the SQLite file")
                }
            }
            let connection: SQLiteConnection
            do {
                connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger).get()
            } catch {
                throw StorageError.unavailable("cannot open the SQLite file \(path): \(error)")
            }
            let sql = connection.sql(queryLogLevel: nil)
            // busy_timeout first: a file another process holds is waited for, but only for as long as a
            // PostgreSQL caller waits for a connection; then it is one clear line (or a 503), not a hang.
            // WAL lets readers of other processes go on while one writes.
            let busyMillis = Saturating.milliseconds(acquireTimeout)
            do {
                try await sql.raw("PRAGMA busy_timeout=\(unsafeRaw: String(max(busyMillis, 1)))").run()
                try await sql.raw("PRAGMA journal_mode=WAL").run()
                try await sql.raw("PRAGMA synchronous=NORMAL").run()
                try await sql.raw("PRAGMA foreign_keys=ON").run()
            } catch {
                try? await connection.close().get()
                throw StorageError.sqlite(path: path, error, waited: acquireTimeout)
            }
            return Database(backend: .sqlite(connection, AsyncLock()), location: location, logger: logger, acquireTimeout: acquireTimeout)
        case .postgres(let postgres):
            var configuration = PostgresClient.Configuration(
                host: postgres.host,
                port: postgres.port,
                username: postgres.username,
                password: postgres.password?.reveal,
                database: postgres.database,
                tls: postgres.requireTLS ? .require(.makeClientConfiguration()) : .disable
            )
            configuration.options.maximumConnections = 16
            // One connection the pool keeps (re)opening on its own schedule: after an outage it reconnects
            // without waiting for a caller to ask (callers' lease waits are bounded by `acquireTimeout`).
            configuration.options.minimumConnections = 1
            configuration.options.connectTimeout = .seconds(5)
            // The pool logs every failed connection attempt at info; keep that for debug and trace.
            var poolLogger = logger
            poolLogger.logLevel = max(logger.logLevel, .warning)
            let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
            return Database(backend: .postgres(client), location: location, logger: logger, acquireTimeout: acquireTimeout)
        }
    }

    /// The long-lived part to run in the service group: the PostgreSQL pool, or (SQLite) a service
    /// that closes the file on shutdown.
    public var service: any Service {
        switch backend {
        case .postgres(let client): PostgresClientService(client: client)
        case .sqlite(let connection, let lock): SQLiteCloseService(connection: connection, lock: lock)
        }
    }

    /// Runs `body` with the database usable, for command-line commands that have no service group.
    public func withRunning<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let connection, _):
            do {
                let result = try await body(self)
                try? await connection.close().get()
                return result
            } catch {
                try? await connection.close().get()
                throw error
            }
        case .postgres(let client):
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                return try await body(self)
            }
        }
    }

    /// Runs statements outside a transaction.
    public func run<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let connection, let lock):
            return try await lock.withLock { try await self.holding { try await body(connection.sql(queryLogLevel: nil)) } }
        case .postgres(let client):
            return try await leasing(client) { connection in try await self.holding { try await body(OpenConnectionSQL(connection)) } }
        }
    }

    /// Leases a pooled connection, failing with ``StorageError/unavailable(_:)`` when none comes within
    /// `acquireTimeout`. Only the wait for the lease is bounded; a long statement on a live connection is not cut.
    private func leasing<T: Sendable>(_ client: PostgresClient, _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let leased = LeaseFlag()
        let timeout = acquireTimeout
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.set()
                        // Cancellation (the service group ending) closes the connection: a statement the server
                        // never answers (a lock wait, a peer gone silent) then fails at once instead of holding
                        // its caller, and so the whole shutdown, for ever. The pool replaces the connection.
                        return try await withTaskCancellationHandler {
                            try await body(connection)
                        } onCancel: {
                            let closing: EventLoopFuture<Void> = connection.close()
                            _ = closing
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if leased.isSet { return nil }
                    throw StorageError.unavailable("no database connection within \(timeout)")
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let value = next { return value }
                }
                throw StorageError.unavailable("no database connection")
            }
        }
    }

    /// Holds one pooled connection listening on `channel` and calls `notified` for each notification,
    /// until the task is cancelled or the connection is lost (which throws). SQLite has no
    /// notifications: returns at once.
    package func listen(_ channel: String, _ notified: @Sendable () async -> Void) async throws {
        guard case .postgres(let client) = backend else { return }
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                for try await _ in notifications { await notified() }
            }
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let connection, let lock):
            return try await lock.withLock {
                let sql = connection.sql(queryLogLevel: nil)
                // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading.
                do {
                    try await sql.raw("BEGIN IMMEDIATE").run()
                } catch let error as SQLiteError where "\(error)".contains("within a transaction") {
                    // A transaction left open (a task stopped between BEGIN and COMMIT) would wedge every
                    // later write: roll it back and start ours, rather than fail forever.
                    logger.warning("rolled back a transaction left open on the SQLite connection")
                    try await sql.raw("ROLLBACK").run()
                    try await sql.raw("BEGIN IMMEDIATE").run()
                }
                return try await self.holding { try await Self.finish(sql, body) }
            }
        case .postgres(let client):
            return try await leasing(client) { connection in
                let sql = OpenConnectionSQL(connection)
                try await sql.raw("BEGIN").run()
                return try await self.holding {
                    do {
                        let result = try await body(sql)
                        try await sql.raw("COMMIT").run()
                        return result
                    } catch {
                        try? await Self.endFailed(connection, after: error)
                        throw error
                    }
                }
            }
        }
    }

    /// The SQLite file, for messages ("" on PostgreSQL).
    private var sqlitePath: String {
        if case .sqlite(let path) = location { return path }
        return ""
    }

    public var connectionsInUse: Int { inUse.load(ordering: .relaxed) }

    private func holding<T>(_ body: () async throws -> T) async rethrows -> T {
        inUse.add(1, ordering: .relaxed)
        defer { inUse.subtract(1, ordering: .relaxed) }
        return try await body()
    }

    /// Ends a PostgreSQL transaction that failed: ROLLBACK on a healthy connection; a connection that
    /// broke or was cancelled is closed instead, which ends the transaction on the server too. A
    /// ROLLBACK sent to a closed or closing connection is never answered (postgres-nio does not fail
    /// it), and waiting for it held the usage writer, and so the whole shutdown, for ever.
    private static func endFailed(_ connection: PostgresConnection, after error: any Error) async throws {
        let broken = (error as? PSQLError).map { $0.code != .server } ?? false
        if connection.isClosed || broken || Task.isCancelled {
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
            return
        }
        try await OpenConnectionSQL(connection).raw("ROLLBACK").run()
    }

    private static func finish<T>(_ sql: any SQLDatabase, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            let result = try await body(sql)
            try await sql.raw("COMMIT").run()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Runs `body` while holding a database-wide lock named by `key`, so that two instances starting
    /// at once do not both migrate or seed. SQLite: the transaction's write lock; PostgreSQL: an
    /// advisory lock on one connection.
    public func exclusively<T: Sendable>(key: Int64, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite:
            // The transaction's write lock; a file another process holds is waited for as long as the
            // busy timeout (`DATABASE_TIMEOUT_SECONDS`), then named in the error, never waited on in silence.
            do {
                return try await transaction(body)
            } catch let error as SQLiteError where Self.isUnavailable(error) {
                throw StorageError.sqlite(path: sqlitePath, error, waited: acquireTimeout)
            }
        case .postgres(let client):
            return try await leasing(client) { connection in
                let sql = OpenConnectionSQL(connection)
                try await sql.raw("SELECT pg_advisory_lock(\(bind: key))").run()
                do {
                    let result = try await body(sql)
                    try await sql.raw("SELECT pg_advisory_unlock(\(bind: key))").run()
                    return result
                } catch {
                    try? await sql.raw("SELECT pg_advisory_unlock(\(bind: key))").run()
                    throw error
                }
            }
        }
    }

    /// Fails fast with a clear message when the database cannot be reached, instead of the pool's
    /// long wait (PostgreSQL's pool retries for about a minute). For PostgreSQL it opens one direct
    /// connection, so the answer names the real cause: refused, bad password, no such database.
    public func checkReachable(timeout: Duration = .seconds(8)) async throws {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.probe() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw StorageError.unavailable("timed out after \(timeout) connecting to \(self.location)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.unavailable("cannot reach \(location): \(Self.describe(error))")
        }
    }

    private func probe() async throws {
        guard case .postgres(let postgres) = location else {
            // The write lock, not just a read: a file another process holds would otherwise pass here
            // and stall the first write (the migrations) instead.
            do {
                try await transaction { _ in }
            } catch let error as SQLiteError {
                throw StorageError.sqlite(path: sqlitePath, error, waited: acquireTimeout)
            }
            return
        }
        var configuration = PostgresConnection.Configuration(
            host: postgres.host, port: postgres.port, username: postgres.username, password: postgres.password?.reveal,
            database: postgres.database, tls: postgres.requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            _ = try await connection.query("SELECT 1", logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Set once a lease is granted, so the acquire timer knows not to fire.
private final class LeaseFlag: Sendable {
    private let value = Atomic<Bool>(false)
    package func set() { value.store(true, ordering: .releasing) }
    package var isSet: Bool { value.load(ordering: .acquiring) }
}
