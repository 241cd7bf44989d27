import FakeProviders
import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// A Vertex AI service account's private key, used on every path (stored, validated, calls that succeed and fail, a key the
/// token endpoint refuses), appears in no response, audit row, metric or log line: it only ever becomes a signature.
@Suite struct VertexSecretLeakTests {
    @Test(arguments: TestDatabase.available)
    func noPartOfThePrivateKeyAppearsAnywhere(database: TestDatabase) async throws {
        let capture = LogCapture()
        let seen = Mutex<[String]>([])
        let account = try #require(FakeServiceAccount.standard)
        let intruder = try FakeServiceAccount(clientEmail: "intruder@fake-project.iam.gserviceaccount.com")
        try await GatewayHarness.run(database: database, extra: ["LOG_LEVEL": "trace"], withEnvKeys: false, logger: capture.logger()) { client, fakes, components in
            func send(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, user: String? = nil) async throws -> (status: HTTPResponse.Status, body: String) {
                let headers: HTTPFields = user.map { [VertexGatewayTests.xUserId: $0] } ?? [:]
                let answer = try await client.call(method, uri, json: json, headers: headers)
                seen.withLock { $0.append("\(answer.status) \(answer.headers) \(answer.body)") }
                return (answer.status, answer.body)
            }
            let created = try await send(.post, "/api/api-keys", json: #"{"shared": true, "provider": "vertex", "serviceAccount": \#(fakes.vertexServiceAccountJSON())}"#)
            #expect(created.status == .created, "\(created.body)")
            let key = try decodeJSON(APIKey.self, created.body)
            // Refused at the door, and (stored unchecked by an admin) refused by the token endpoint on a call.
            _ = try await send(.post, "/api/api-keys", json: #"{"userId": "eve", "provider": "vertex", "serviceAccount": \#(fakes.vertexServiceAccountJSON(intruder))}"#)
            let unchecked = try await send(
                .post, "/api/api-keys", json: #"{"userId": "eve", "provider": "vertex", "validate": false, "serviceAccount": \#(fakes.vertexServiceAccountJSON(intruder))}"#)
            #expect(unchecked.status == .created, "\(unchecked.body)")
            let badText = try String(decoding: JSONSerialization.data(withJSONObject: [
                "userId": "eve", "provider": "vertex", "apiKey": fakes.vertexServiceAccountJSON(intruder).replacingOccurrences(of: "BEGIN PRIVATE KEY", with: "BEGIN KEY"),
            ]), as: UTF8.self)
            _ = try await send(.post, "/api/api-keys", json: badText)

            let model = GatewayHarness.modelName(.vertex)
            #expect(try await send(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false)).status == .ok)
            _ = try await send(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: true))
            _ = try await send(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.vertex, "fake-error-500"), stream: false))
            let rejected = try await send(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false), user: "eve")
            // The token endpoint refused eve's account: the key is marked invalid and the call falls back to the shared account.
            #expect(rejected.status == .ok, "\(rejected.body)")
            let marked = try await eventually(timeout: .seconds(10)) {
                try await components.vault.list(.init(owner: "eve")).first?.isValid == false
            }
            #expect(marked != nil)
            _ = try await send(.post, "/api/api-keys/\(key.id)/validate")
            _ = try await send(.post, "/api/api-keys/\(try decodeJSON(APIKey.self, unchecked.body).id)/validate")
            let listed = try await send(.get, "/api/api-keys")
            #expect(listed.body.contains(account.clientEmail))
            _ = try await send(.get, "/api/audit")
            _ = try await send(.get, "/metrics")
            _ = try await send(.get, "/api/providers/health")
        }
        let lines = capture.all
        #expect(lines.count > 20, "the capture saw the request logs")
        let texts = lines + seen.withLock { $0 }
        for line in account.privateKeyLines + intruder.privateKeyLines {
            #expect(!texts.contains { $0.contains(line) }, "a private key line leaked")
        }
        // The JSON-escaped PEM header would show where a whole key file was echoed.
        #expect(!texts.contains { $0.contains("PRIVATE KEY-----\\n") || $0.contains("PRIVATE KEY-----\n") })
    }
}
