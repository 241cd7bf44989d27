import Testing
import Foundation
import Logging
import PostgresNIO
@testable import ModelService
@testable import ModelServiceCore

/// The databases every storage test runs on: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set (CI sets it).
enum TestDatabase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var available: [TestDatabase] {
        ProcessInfo.processInfo.environment["TEST_DATABASE_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    var testDescription: String { rawValue }

    /// A fresh, empty database: a new SQLite file, or a new PostgreSQL database on the test server.
    func makeURL() async throws -> String {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ms-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return "sqlite://" + directory.appendingPathComponent("test.sqlite").path
        case .postgres:
            guard let serverURL = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"],
                case .postgres(let server) = try DatabaseLocation.parse(serverURL, dataDirectory: "/tmp")
            else { throw TestFailure("TEST_DATABASE_URL is not a postgres URL") }
            // The name is made here of [a-z0-9_] only; CREATE DATABASE takes no bound parameter.
            let name = "ms_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
            let client = PostgresClient(
                configuration: .init(
                    host: server.host, port: server.port, username: server.username, password: server.password?.reveal,
                    database: server.database, tls: .disable
                ),
                backgroundLogger: Logger(label: "test.postgres")
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            }
            var components = URLComponents(string: serverURL)!
            components.path = "/" + name
            return components.string!
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
