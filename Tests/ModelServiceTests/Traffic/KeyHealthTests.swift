import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// A provider's 401 on a stored key marks it invalid (audited), resolution skips it, re-validation restores it.
@Suite struct KeyHealthTests {
    @Test(arguments: TestDatabase.available)
    func aRejectedKeyIsMarkedInvalidSkippedAndRestoredByValidation(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, fakes, components in
            let userKey = "sk-kate-own-key-0123456789"
            let stored = try await VaultAPI.store(client, userId: "kate", key: userKey)
            // `error-401` refuses every key on that model; the fake's key check (GET /models) still accepts it.
            let rejecting = try await TrafficTest.model(client, upstream: "fake-error-401")
            let echo = try await TrafficTest.model(client, upstream: "fake-echo")
            let refused = try await TrafficTest.chat(client, model: rejecting, user: "kate")
            // The one error table: a key the provider refuses is the gateway's dependency failing (424), not the client's token.
            #expect(refused.status.code == 424 && refused.body.contains("provider_key_rejected"), "\(refused.body)")
            #expect(!refused.body.contains(userKey))

            let marked = try await eventually(timeout: .seconds(30)) {
                try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(stored.id)").body).status == APIKey.statusInvalid
            }
            #expect(marked != nil)
            let invalid = try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(stored.id)").body)
            #expect(invalid.isValid == false && invalid.invalidReason?.contains("401") == true && invalid.invalidAt != nil)
            let audit = try await client.call(.get, "/api/audit?action=key_rejected")
            #expect(audit.status == .ok && audit.body.contains(stored.id))

            // The next call skips the invalid user key and falls to the environment key.
            #expect(try await TrafficTest.chat(client, model: echo, user: "kate").status == .ok)
            #expect(await fakes.recorder.last(provider: "openai")?.headers["authorization"] == "Bearer \(GatewayHarness.envKey(.openai))")

            // Re-validation: the provider accepts the key again, so it is used again.
            let report = try await client.call(.post, "/api/api-keys/\(stored.id)/validate")
            #expect(report.status == .ok && report.body.contains(#""result":"valid""#), "\(report.body)")
            let restored = try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(stored.id)").body)
            #expect(restored.status == APIKey.statusOK && restored.isValid == true && restored.invalidReason == nil)
            #expect(try await TrafficTest.chat(client, model: echo, user: "kate").status == .ok)
            #expect(await fakes.recorder.last(provider: "openai")?.headers["authorization"] == "Bearer \(userKey)")
            _ = components
        }
    }

    /// Within one call: the user's key is refused, so the same call is sent again with the next source.
    @Test(arguments: TestDatabase.available)
    func aCallWhoseStoredKeyIsRefusedIsSentAgainWithTheNextKey(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, fakes, _ in
            _ = try await VaultAPI.store(client, userId: "lee", key: "bad-key-of-lee-0123456789")
            let echo = try await TrafficTest.model(client, upstream: "fake-echo")
            let answer = try await TrafficTest.chat(client, model: echo, user: "lee")
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-echo") == 2)
            #expect(await fakes.recorder.last(provider: "openai")?.headers["authorization"] == "Bearer \(GatewayHarness.envKey(.openai))")
        }
    }

    /// Gemini answers an unknown key with a 400 `API_KEY_INVALID` and a forbidden one with a 403: both are
    /// key rejections (424, the key marked invalid), not an unreachable provider; and a key check says so too.
    @Test(arguments: TestDatabase.available)
    func geminisKeyRefusalsAreKeyRejections(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, _ in
            for (upstream, status) in [("fake-error-401", "400"), ("fake-error-403", "403")] {
                let stored = try await VaultAPI.store(client, userId: "gil-\(status)", provider: "gemini", key: "AIza-gil-\(status)-0123456789")
                let model = try await TrafficTest.model(client, upstream: upstream, provider: .gemini)
                let refused = try await TrafficTest.chat(client, model: model, user: "gil-\(status)")
                #expect(refused.status.code == 424 && refused.body.contains("provider_key_rejected"), "\(upstream): \(refused.body)")
                let marked = try await eventually(timeout: .seconds(30)) {
                    try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(stored.id)").body).status == APIKey.statusInvalid
                }
                #expect(marked != nil, "\(upstream)")
                let invalid = try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(stored.id)").body)
                #expect(invalid.invalidReason?.contains(status) == true, "\(invalid)")
            }
            // Storing a key Gemini calls invalid is refused as a rejected key (422), not as an unreachable provider (502).
            let stored = try await client.call(
                .post, "/api/api-keys", json: #"{"userId": "gil", "provider": "gemini", "keyName": "k", "apiKey": "bad-gemini-key-0123456789"}"#)
            #expect(stored.status.code == 422, "\(stored.body)")
        }
    }
}
