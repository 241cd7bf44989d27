import FakeProviders
import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A stored AWS key pair with a session token, used for calls that succeed and fail, validated, listed and
/// audited: its secret access key and session token show up in no response, no metric and no log line.
@Suite struct BedrockSecretLeakTests {
    @Test(arguments: TestDatabase.available)
    func theSecretKeyAndSessionTokenAppearNowhere(_ database: TestDatabase) async throws {
        let secrets = [FakeBedrockCredentials.sessionSecretAccessKey, FakeBedrockCredentials.sessionToken]
        let wrongSecret = "wrongSessionSecret/0000+neverValid"
        let capture = LogCapture()
        let responses = Mutex<[String]>([])
        try await GatewayHarness.run(database: database, extra: ["LOG_LEVEL": "trace"], logger: capture.logger()) { client, fakes, _ in
            func send(_ method: HTTPRequest.Method, _ uri: String, token: String? = TestApp.adminToken, json: String? = nil) async throws -> String {
                let answer = try await client.call(method, uri, token: token, json: json)
                responses.withLock { $0.append("\(answer.status) \(answer.headers) \(answer.body)") }
                return answer.body
            }
            func pair(_ secret: String, name: String) -> String {
                """
                {"shared": true, "provider": "bedrock", "keyName": "\(name)", "accessKeyId": "\(FakeBedrockCredentials.sessionAccessKeyId)",
                 "secretAccessKey": "\(secret)", "sessionToken": "\(FakeBedrockCredentials.sessionToken)", "region": "us-east-1"}
                """
            }
            // A refused pair (the fake's signature check), then the good one.
            let refused = try await send(.post, "/api/api-keys", json: pair(wrongSecret, name: "wrong"))
            #expect(refused.contains("signature"))
            let key = try decodeJSON(APIKey.self, try await send(.post, "/api/api-keys", json: pair(FakeBedrockCredentials.sessionSecretAccessKey, name: "temp")))
            for upstream in ["fake-echo", "fake-error-500", "fake-error-400", "fake-echo-corrupt-frame", "fake-echo-stream-exception"] {
                try await BedrockGatewayTests.model(client, "leak/\(upstream)", upstream: upstream, region: "us-east-1")
                for stream in [false, true] {
                    _ = try await send(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "leak/\(upstream)", stream: stream))
                }
            }
            _ = try await send(.post, "/v1/messages", json: #"{"model": "leak/fake-echo", "max_tokens": 20, "messages": [{"role": "user", "content": "Hi"}]}"#)
            // The fake did receive the token, signed: the calls above really carried it.
            let received = try #require(await fakes.recorder.requests.last { $0.path.hasSuffix("/converse") })
            #expect(received.headers["x-amz-security-token"] == FakeBedrockCredentials.sessionToken)

            _ = try await send(.post, "/api/api-keys/\(key.id)/validate")
            _ = try await send(.patch, "/api/api-keys/\(key.id)", json: #"{"secretAccessKey": "\#(wrongSecret)"}"#)
            _ = try await send(.get, "/api/api-keys")
            _ = try await send(.get, "/api/api-keys/\(key.id)")
            _ = try await send(.get, "/api/audit")
            _ = try await send(.get, "/api/usage")
            _ = try await send(.get, "/api/providers/health")
            let metrics = try await send(.get, "/metrics")
            #expect(metrics.contains("bedrock"), "the metrics saw the Bedrock calls")
        }
        let lines = capture.all
        #expect(lines.count > 50, "the capture saw the request logs")
        let bodies = responses.withLock { $0 }
        for secret in secrets + [wrongSecret] {
            #expect(!lines.contains { $0.contains(secret) }, "a log line holds a secret")
            #expect(!bodies.contains { $0.contains(secret) }, "a response holds a secret")
        }
    }
}
