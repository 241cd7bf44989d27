import FakeProviders
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Which key the gateway sends: the user's own, else a shared key, else the environment, else a clear error.
@Suite struct GatewayKeyResolutionTests {
    @Test(arguments: TestDatabase.available)
    func userKeyThenSharedKeyThenEnvironmentThenAClearError(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            let model = GatewayHarness.modelName(.anthropic)
            let body = GatewayHarness.chatBody(model: model, stream: false)
            let userToken = try await VaultAPI.token(client, role: "user", userId: "carol")
            func sentKey() async throws -> String? {
                let response = try await client.call(.post, "/v1/chat/completions", token: userToken, json: body)
                #expect(response.status == .ok, "\(response.body)")
                return await fakes.recorder.last(provider: "anthropic")?.headers["x-api-key"]
            }
            let userKey = "sk-ant-user-carol-0123456789"
            let sharedKey = "sk-ant-shared-team-0123456789"
            let mine = try await client.call(
                .put, "/api/users/me/keys/anthropic?skipValidation=true", token: userToken, json: #"{"apiKey": "\#(userKey)", "validate": false}"#)
            #expect([.ok, .created].contains(mine.status), "\(mine.body)")
            let shared = try await client.call(
                .post, "/api/api-keys?skipValidation=true", json: #"{"shared": true, "provider": "anthropic", "keyName": "team", "apiKey": "\#(sharedKey)"}"#)
            #expect(shared.status == .created, "\(shared.body)")

            #expect(try await sentKey() == userKey)
            // Another user with no key of its own gets the shared key.
            let daveToken = try await VaultAPI.token(client, role: "user", userId: "dave")
            _ = try await client.call(.post, "/v1/chat/completions", token: daveToken, json: body)
            #expect(await fakes.recorder.last(provider: "anthropic")?.headers["x-api-key"] == sharedKey)

            let myId = try decodeJSON([APIKey].self, try await client.call(.get, "/api/users/me/keys", token: userToken).body).first { $0.provider == .anthropic }?.id
            #expect(try await client.call(.delete, "/api/api-keys/\(try #require(myId))").status == .noContent)
            #expect(try await sentKey() == sharedKey)
            let sharedId = try decodeJSON(APIKey.self, shared.body).id
            #expect(try await client.call(.delete, "/api/api-keys/\(sharedId)").status == .noContent)
            #expect(try await sentKey() == GatewayHarness.envKey(.anthropic))

            // The key used is counted (seed: "Monitor key usage").
            await components.usage.flush()
            let sources = try await components.database.run { sql in
                try await sql.raw("SELECT key_source FROM usage_records WHERE user_id = \(bind: "carol") ORDER BY at").all()
            }.map { try $0.decode(column: "key_source", as: String?.self) }
            #expect(sources == ["user", "shared", "env"])
        }
    }

    @Test func usingAStoredKeyUpdatesItsUsageCountAndLastUse() async throws {
        try await GatewayHarness.run { client, _, components in
            let stored = try await client.call(
                .post, "/api/api-keys?skipValidation=true", json: #"{"shared": true, "provider": "openai", "keyName": "team", "apiKey": "sk-shared-0123456789abcdef"}"#)
            let key = try decodeJSON(APIKey.self, stored.body)
            #expect(key.usageCount == 0 && key.lastUsedAt == nil)
            for _ in 0..<3 {
                _ = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false))
            }
            await components.usage.flush()
            let after = try decodeJSON(APIKey.self, try await client.call(.get, "/api/api-keys/\(key.id)").body)
            #expect(after.usageCount == 3)
            #expect(after.lastUsedAt != nil)
        }
    }
}
