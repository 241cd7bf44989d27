import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Cancelling the service group (a service failed, or a test's time limit) ends every service promptly,
/// whatever the database is doing: here a usage write the server holds on a table lock for ever.
@Suite struct ServiceCancellationTests {
    @Test(arguments: TestDatabase.available.filter { $0 == .postgres })
    func aCancelledGroupEndsWhileAUsageWriteWaitsOnALock(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let components = try await TestApp.components(databaseURL: url, extra: ["USAGE_FLUSH_MS": "50", "SEED_ON_START": "false"])
        let group = ServiceGroup(
            configuration: .init(services: components.services.map { .init(service: $0) }, gracefulShutdownSignals: [], logger: TestApp.logger))
        let ended = Mutex(false)
        let runner = Task {
            try? await group.run()
            ended.withLock { $0 = true }
        }
        _ = try await components.prepare()

        // Another session takes the usage table and keeps it: the recorder's next INSERT waits on the server.
        let holder = try await Self.connect(url)
        _ = try await holder.query("BEGIN", logger: TestApp.logger)
        _ = try await holder.query("LOCK TABLE usage_records IN ACCESS EXCLUSIVE MODE", logger: TestApp.logger)
        components.usage.record(UsageRecord(userId: "una", tokenId: nil, model: "m", provider: .openai, status: 200))
        let waiting = try await eventually(timeout: .seconds(30)) {
            try await PostgresAdmin.run([
                "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO usage_records%'"
            ]).first ?? 0 > 0
        }
        #expect(waiting != nil, "the usage write never reached the lock")

        runner.cancel()
        // Far above the few milliseconds it takes: the point is that it ends at all.
        let stopped = try await eventually(timeout: .seconds(60)) { ended.withLock { $0 } }
        _ = try? await holder.query("ROLLBACK", logger: TestApp.logger)
        try? await holder.close()
        #expect(stopped != nil, "a service kept the cancelled group from ending")
        // Nothing is lost: the record waits in the pending file for the next start.
        #expect(components.usage.spill.pendingCount == 1)
    }

    /// A waiter for the SQLite connection (or the usage writer) leaves the queue when its task is cancelled.
    @Test func aCancelledWaiterLeavesTheLock() async throws {
        let lock = AsyncLock()
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let (held, holding) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await lock.withLock {
                holding.yield()
                for await _ in release { break }
            }
        }
        for await _ in held { break }
        // Queued behind the holder or not yet: either way a cancelled waiter never runs.
        let waiter = Task { try await lock.withLock { "ran" } }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        releaser.yield()
        try await holder.value
        #expect(try await lock.withLock { "free" } == "free")
    }

    static func connect(_ url: String) async throws -> PostgresConnection {
        guard case .postgres(let location) = try DatabaseLocation.parse(url, dataDirectory: "/tmp") else { throw TestFailure("not postgres") }
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password?.reveal,
            database: location.database, tls: .disable)
        return try await PostgresConnection.connect(configuration: configuration, id: 7, logger: TestApp.logger)
    }
}

