import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import ModelService
@testable import ModelServiceCore

/// Builds the real application on a real database for a test, and helpers to call it.
struct TestApp {
    static let adminToken = "test-admin-token-0123456789abcdef"

    /// The environment of a test instance: its own data folder, a fixed admin token, fast change polling.
    static func environment(databaseURL: String, extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "DATABASE_URL": databaseURL,
            "ADMIN_TOKEN": adminToken,
            "DATA_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("ms-data-\(UUID().uuidString)").path,
            "CHANGE_POLL_MS": "50",
            "PORT": "0",
            "HOST": "127.0.0.1",
            // A cheap scrypt for new master-key versions; the cost is stored per version, so restarts agree.
            "ENCRYPTION_KDF_COST": "fast-for-tests",
            // One secret for every instance of a test: two instances on one database must agree (canary check).
            "ENCRYPTION_SECRET": "test-encryption-secret-9f2c4e7a1b3d5f60",
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    static func components(databaseURL: String, extra: [String: String] = [:], logger: Logger = TestApp.logger) async throws -> ServiceComponents {
        let configuration = try AppConfiguration(environment: environment(databaseURL: databaseURL, extra: extra))
        return try await ServiceComponents.make(configuration: configuration, logger: logger)
    }

    /// Runs `test` against a started instance (services running, database migrated and seeded).
    static func run<T: Sendable>(
        databaseURL: String,
        extra: [String: String] = [:],
        live: Bool = false,
        logger: Logger = TestApp.logger,
        _ test: @Sendable (any TestClientProtocol, ServiceComponents) async throws -> T
    ) async throws -> T {
        let components = try await components(databaseURL: databaseURL, extra: extra, logger: logger)
        let app = try await buildApplication(components: components, logger: logger)
        return try await app.test(live ? .live : .router) { client in try await test(client, components) }
    }
}

extension TestClientProtocol {
    /// A JSON request with a bearer token; returns status and body.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = TestApp.adminToken,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }
}

/// Decodes a response body in a test.
func decodeJSON<T: Decodable>(_ type: T.Type, _ body: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(body.utf8))
}

/// The `{"error": {...}}` body.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
        var type: String
    }
    var error: Detail
}

/// Waits until `condition` holds, polling every 20 ms, up to `timeout`; returns the time it took.
func eventually(timeout: Duration, _ condition: @Sendable () async throws -> Bool) async throws -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    while clock.now - start < timeout {
        if try await condition() { return clock.now - start }
        try await Task.sleep(for: .milliseconds(20))
    }
    return nil
}
