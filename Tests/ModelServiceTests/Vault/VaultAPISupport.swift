import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SQLKit
import Synchronization
@testable import ModelService
@testable import ModelServiceCore

/// Shared pieces of the vault's API tests: secrets, fake providers, tokens and raw row access.
enum VaultAPI {
    static let secretA = "Vault-test-secret-A-7f3c91d2e8b64a05-kQ9zR2mW"
    static let secretB = "Vault-test-secret-B-0d6e2a9b4c718f53-Hx4tY8pL"
    static let internalSecret = "internal-secret-for-tests-5a1b9c"

    /// An environment with secret A, the internal secret, and every provider's base URL on `fakes`.
    static func environment(fakes: RunningFakeProviders?, extra: [String: String] = [:]) -> [String: String] {
        var environment = ["ENCRYPTION_SECRET": secretA, "INTERNAL_SECRET": internalSecret, "SEED_ON_START": "false"]
        if let fakes { environment.merge(fakes.baseURLs) { _, new in new } }
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Runs `body` with fake providers on loopback, stopped afterwards.
    static func withFakes<T: Sendable>(_ body: (RunningFakeProviders) async throws -> T) async throws -> T {
        let fakes = try await FakeProviderServer.start()
        do {
            let result = try await body(fakes)
            await fakes.stop()
            return result
        } catch {
            await fakes.stop()
            throw error
        }
    }

    struct CreatedToken: Decodable {
        var token: String
    }

    /// A new token of `role` (bound to `userId` for users), made by the admin.
    static func token(_ client: any TestClientProtocol, role: String, userId: String? = nil) async throws -> String {
        let body = userId.map { #"{"role": "\#(role)", "userId": "\#($0)"}"# } ?? #"{"role": "\#(role)"}"#
        let created = try await client.call(.post, "/api/tokens", json: body)
        guard created.status == .created else { throw TestFailure("token creation failed: \(created.status) \(created.body)") }
        return try decodeJSON(CreatedToken.self, created.body).token
    }

    /// Stores a key as admin without validation; returns the record.
    static func store(
        _ client: any TestClientProtocol, userId: String?, provider: String = "openai", name: String = "default", key: String
    ) async throws -> APIKey {
        let owner = userId.map { #""userId": "\#($0)","# } ?? #""shared": true,"#
        let body = #"{\#(owner) "provider": "\#(provider)", "keyName": "\#(name)", "apiKey": "\#(key)"}"#
        let created = try await client.call(.post, "/api/api-keys?skipValidation=true", json: body)
        guard created.status == .created else { throw TestFailure("store failed: \(created.status) \(created.body)") }
        return try decodeJSON(APIKey.self, created.body)
    }

    struct Decrypted: Decodable {
        var id: String
        var apiKey: String
    }

    static func decrypt(_ client: any TestClientProtocol, _ id: String, secret: String? = internalSecret) async throws
        -> (status: Int, body: String)
    {
        var headers: HTTPFields = [:]
        if let secret { headers[HTTPField.Name("x-internal-secret")!] = secret }
        let answer = try await client.call(.get, "/api/api-keys/\(id)/decrypt", token: nil, headers: headers)
        return (Int(answer.status.code), answer.body)
    }

    /// The stored ciphertext of a row, read directly.
    static func ciphertext(_ database: Database, id: String) async throws -> String {
        try await database.run { sql in
            guard let row = try await sql.raw("SELECT encrypted_key FROM api_keys WHERE id = \(bind: id)").first() else {
                throw TestFailure("no row \(id)")
            }
            return try row.decode(column: "encrypted_key", as: String.self)
        }
    }

    static func setCiphertext(_ database: Database, id: String, _ value: String) async throws {
        try await database.run { sql in
            try await sql.raw("UPDATE api_keys SET encrypted_key = \(bind: value) WHERE id = \(bind: id)").run()
        }
    }

    /// A random key-looking value: `prefix` + 32 random letters and digits.
    static func randomKey(prefix: String = "sk-test-") -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// Collects every log line of an app, formatted with its metadata, for leak checks.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    /// A trace-level logger writing here (the global logging system is left alone).
    func logger() -> Logger {
        Logger(label: "capture") { label in CapturingLogHandler(label: label, capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        capture.append("\(event.level) \(label) \(event.message) \(merged) \(event.error.map { "\($0)" } ?? "")")
    }
}
