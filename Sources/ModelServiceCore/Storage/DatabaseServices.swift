import PostgresNIO
import SQLiteNIO
import ServiceLifecycle

/// Keeps the PostgreSQL pool running for the life of the service group.
package struct PostgresClientService: Service {
    package let client: PostgresClient
    package func run() async throws {
        await client.run()
    }
}

/// Closes the SQLite file when the service group shuts down, so the WAL is checkpointed. The close
/// takes the connection's lock, so it never lands in the middle of another task's transaction
/// (on cancellation every service stops at once).
package struct SQLiteCloseService: Service {
    package let connection: SQLiteConnection
    package let lock: AsyncLock
    package func run() async throws {
        try? await gracefulShutdown()
        try? await lock.withLock { try await connection.close().get() }
    }
}
