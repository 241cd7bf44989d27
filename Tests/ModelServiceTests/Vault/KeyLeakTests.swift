import FakeProviders
import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A canary key sent through every vault endpoint and error path at trace level shows up in no
/// log line and in no response but the decrypt endpoint's.
@Suite struct KeyLeakTests {
    @Test(arguments: TestDatabase.available)
    func theCanaryKeyAppearsOnlyInTheDecryptResponse(database: TestDatabase) async throws {
        let core = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let canary = "sk-canary-\(core)-tail"
        let rejected = "bad-canary-\(core)-tail"
        // The masked prefix shows the first 7 and last 4 characters; everything in between must never show.
        let hidden = String(core.prefix(24))
        let capture = LogCapture()
        let responses = Mutex<[String]>([])
        let decryptBodies = Mutex<[String]>([])

        try await VaultAPI.withFakes { fakes in
            let extra = VaultAPI.environment(fakes: fakes, extra: ["LOG_LEVEL": "trace", "DEEPSEEK_BASE_URL": "http://127.0.0.1:1/v1"])
            try await TestApp.run(databaseURL: try await database.makeURL(), extra: extra, logger: capture.logger()) { client, components in
                let user = try await VaultAPI.token(client, role: "user", userId: "leak-user")
                func send(_ method: HTTPRequest.Method, _ uri: String, token: String? = TestApp.adminToken, json: String? = nil) async throws -> String {
                    let answer = try await client.call(method, uri, token: token, json: json)
                    responses.withLock { $0.append("\(answer.status) \(answer.headers) \(answer.body)") }
                    return answer.body
                }
                let created = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "openai", "keyName": "k", "apiKey": "\#(canary)"}"#)
                let key = try decodeJSON(APIKey.self, created)
                // Error paths: duplicate, rejected by the provider, unreachable provider, forbidden owner, bad fields, bad JSON.
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "openai", "keyName": "k", "apiKey": "\#(canary)"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "openai", "keyName": "r", "apiKey": "\#(rejected)"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "anthropic", "keyName": "r", "apiKey": "\#(rejected)"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "gemini", "keyName": "r", "apiKey": "\#(rejected)"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "deepseek", "apiKey": "\#(canary)"}"#)
                _ = try await send(.post, "/api/api-keys", token: user, json: #"{"userId": "u1", "provider": "openai", "apiKey": "\#(canary)"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "acme", "apiKey": "\#(canary)"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "openai", "apiKey": "\#(canary) x"}"#)
                _ = try await send(.post, "/api/api-keys", json: #"{"userId": "u1", "provider": "openai", "apiKey": "\#(canary)""#)
                _ = try await send(.post, "/api/api-keys", token: nil, json: #"{"userId": "u1", "provider": "openai", "apiKey": "\#(canary)"}"#)
                // Every other endpoint, and the key replaced, re-validated, upserted.
                _ = try await send(.get, "/api/api-keys")
                _ = try await send(.get, "/api/api-keys/\(key.id)")
                _ = try await send(.patch, "/api/api-keys/\(key.id)", json: #"{"apiKey": "\#(rejected)"}"#)
                _ = try await send(.patch, "/api/api-keys/\(key.id)", json: #"{"apiKey": "\#(canary)", "keyName": "k2"}"#)
                _ = try await send(.post, "/api/api-keys/\(key.id)/validate")
                _ = try await send(.put, "/api/users/me/keys/openai", token: user, json: #"{"apiKey": "\#(canary)"}"#)
                _ = try await send(.put, "/api/users/me/keys/openai", token: user, json: #"{"apiKey": "\#(rejected)"}"#)
                _ = try await send(.get, "/api/users/me/keys", token: user)
                _ = try await send(.get, "/api/audit")
                _ = try await send(.get, "/api/health", token: nil)
                for secret in [nil, "wrong-internal-secret"] {
                    let refused = try await VaultAPI.decrypt(client, key.id, secret: secret)
                    responses.withLock { $0.append(refused.body) }
                }
                let decrypted = try await VaultAPI.decrypt(client, key.id)
                decryptBodies.withLock { $0.append(decrypted.body) }
                // Use on the gateway's path: resolution logs nothing of the key.
                let model = try #require(try await APIKeyAPITests.model(client, components, provider: "openai"))
                #expect(try components.keyResolver.resolve(userId: "u1", provider: .openai, model: model).secret?.reveal == canary)
                _ = try await send(.delete, "/api/api-keys/\(key.id)")
            }
        }
        let lines = capture.all
        #expect(lines.count > 20, "the capture saw the request logs")
        for needle in [canary, rejected, hidden] {
            #expect(!lines.contains { $0.contains(needle) }, "a log line contains the key")
            #expect(!responses.withLock { $0 }.contains { $0.contains(needle) }, "a response contains the key")
        }
        #expect(decryptBodies.withLock { $0 }.contains { $0.contains(canary) })
    }
}
