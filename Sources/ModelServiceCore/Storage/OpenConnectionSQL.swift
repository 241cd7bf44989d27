import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// A PostgreSQL connection's SQL that refuses to send a statement once the connection is closed.
///
/// postgres-nio never answers a statement sent on a connection that is already closed (checked on
/// 1.33: the await hangs for ever), and the server closes connections whenever the database goes
/// away. A ROLLBACK after a cut was exactly that, and it held the usage writer, and then the whole
/// shutdown, for ever. Here such a statement fails at once, as any other on a dead connection does.
package struct OpenConnectionSQL: SQLDatabase {
    package let connection: PostgresConnection
    package let base: any SQLDatabase

    package init(_ connection: PostgresConnection) {
        self.connection = connection
        self.base = connection.sql(queryLogLevel: nil)
    }

    package var logger: Logger { base.logger }
    package var eventLoop: any EventLoop { base.eventLoop }
    package var version: (any SQLDatabaseReportedVersion)? { base.version }
    package var dialect: any SQLDialect { base.dialect }
    package var queryLogLevel: Logger.Level? { base.queryLogLevel }

    package func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        guard !connection.isClosed else { return eventLoop.makeFailedFuture(StorageError.unavailable("the database connection is closed")) }
        return base.execute(sql: query, onRow)
    }

    package func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        guard !connection.isClosed else { throw StorageError.unavailable("the database connection is closed") }
        try await base.execute(sql: query, onRow)
    }
}
