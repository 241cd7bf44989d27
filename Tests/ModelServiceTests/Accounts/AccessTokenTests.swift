import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Token roles and the 401/403 rules, on both databases.
@Suite struct AccessTokenTests {
    struct Created: Decodable {
        var token: String
        var accessToken: AccessToken
    }

    @Test(arguments: TestDatabase.available)
    func missingUnknownExpiredAndRevokedTokensGetTheSame401(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, components in
            let (expired, expiredSecret) = try await components.tokens.create(
                role: .admin, userId: nil, name: "old", expiresAt: Date().addingTimeInterval(-60), actor: .commandLine)
            _ = expired
            let revokedResponse = try await client.call(.post, "/api/tokens", json: #"{"role": "admin", "name": "to revoke"}"#)
            let revoked = try decodeJSON(Created.self, revokedResponse.body)
            #expect(try await client.call(.get, "/api/models", token: revoked.token).status == .ok)
            #expect(try await client.call(.delete, "/api/tokens/\(revoked.accessToken.id)").status == .noContent)

            var bodies: Set<String> = []
            for token in [nil, "nope", "msk_" + String(repeating: "a", count: 43), expiredSecret.reveal, revoked.token] {
                let response = try await client.call(.get, "/api/models", token: token)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                bodies.insert(response.body)
            }
            let basic = try await client.call(.get, "/api/models", token: nil, headers: [.authorization: "Basic YWRtaW46YWRtaW4="])
            #expect(basic.status == .unauthorized)
            bodies.insert(basic.body)
            #expect(bodies.count == 1, "\(bodies)")
            // Health needs no token (a loaded machine may answer 503 while the database is busy, never 401).
            let health = try await client.call(.get, "/api/health", token: nil)
            #expect(health.status != .unauthorized && health.body.contains("\"database\""), "\(health.status) \(health.body)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func rolesDecideWhatATokenMayDo(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, _ in
            let user = try decodeJSON(Created.self, try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "user-123"}"#).body)
            let service = try decodeJSON(Created.self, try await client.call(.post, "/api/tokens", json: #"{"role": "service", "name": "billing"}"#).body)
            #expect(user.accessToken.userId == "user-123" && user.accessToken.role == .user)
            #expect(user.token.hasPrefix("msk_"))

            for token in [user.token, service.token] {
                #expect(try await client.call(.get, "/api/models", token: token).status == .ok)
                #expect(try await client.call(.get, "/api/models/stats", token: token).status == .ok)
                let write = try await client.call(.post, "/api/models", token: token, json: ModelAPITests.sampleBody)
                #expect(write.status == .forbidden)
                #expect(try decodeJSON(ErrorBody.self, write.body).error.code == "forbidden")
                #expect(try await client.call(.patch, "/api/models/openai/gpt-4o", token: token, json: "{}").status == .forbidden)
                #expect(try await client.call(.delete, "/api/models/openai/gpt-4o", token: token).status == .forbidden)
                #expect(try await client.call(.get, "/api/tokens", token: token).status == .forbidden)
                #expect(try await client.call(.post, "/api/tokens", token: token, json: #"{"role": "admin"}"#).status == .forbidden)
            }

            let listed = try await client.call(.get, "/api/tokens")
            #expect(listed.status == .ok)
            #expect(!listed.body.contains(user.token) && !listed.body.contains(service.token))
            #expect(try decodeJSON([AccessToken].self, listed.body).count >= 2)

            let noUser = try await client.call(.post, "/api/tokens", json: #"{"role": "user"}"#)
            #expect(noUser.status == .badRequest && noUser.body.contains("userId"))
            let reserved = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "@shared"}"#)
            #expect(reserved.status == .badRequest && reserved.body.contains("userId"))
            let badRole = try await client.call(.post, "/api/tokens", json: #"{"role": "root"}"#)
            #expect(badRole.status == .badRequest && badRole.body.contains("role"))
            let past = try await client.call(.post, "/api/tokens", json: #"{"role": "admin", "expiresAt": "2001-01-01T00:00:00Z"}"#)
            #expect(past.status == .badRequest && past.body.contains("expiresAt"))
            #expect(try await client.call(.delete, "/api/tokens/no-such-id").status == .notFound)
        }
    }

    @Test(arguments: TestDatabase.available)
    func firstStartWithoutAdminTokenMakesOneOnlyOnce(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let first = try await TestApp.components(databaseURL: url, extra: ["ADMIN_TOKEN": "", "SEED_ON_START": "false"])
        let secret = try await first.withRunning { _ in try await first.prepare() }
        let token = try #require(secret)
        let again = try await TestApp.components(databaseURL: url, extra: ["ADMIN_TOKEN": "", "SEED_ON_START": "false"])
        try await again.withRunning { _ in
            #expect(try await again.prepare() == nil)
            #expect(again.tokens.authenticate(token)?.role == .admin)
            let stored = try await again.database.run { try await $0.raw("SELECT token_hash FROM access_tokens").all() }
            #expect(try stored.map { try $0.decode(column: "token_hash", as: String.self) } == [TokenSecrets.hash(token)])
        }
    }
}
