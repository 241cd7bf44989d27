import FakeProviders
import Foundation
import HTTPTypes
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The user's Settings page (seed 001 phase 4) against the fake providers: a card per provider of the
/// active registry, live validation, nothing stored on a rejection, and audit entries like the API's.
@Suite struct ConsoleSettingsTests {
    typealias Page = ConsoleSecurityTests

    /// The key rows about `provider` (model rows, audited since hardening, name models and differ per provider).
    static func auditRows(_ components: ServiceComponents, provider: String) async throws -> [[String?]] {
        try await components.database.run { sql in
            try await sql.raw("SELECT action, actor_role, result, detail, target_user_id FROM audit_log WHERE provider = \(bind: provider) AND COALESCE(subject_type, 'key') = 'key' ORDER BY at, id").all()
        }.map { row in
            try ["action", "actor_role", "result", "detail", "target_user_id"].map { try row.decode(column: $0, as: String?.self) }
        }
    }

    @Test(arguments: TestDatabase.available)
    func aUserSavesAValidKeyAndIsRefusedAnInvalidOne(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let token = try await Page.userToken(client, userId: "erin")
            let (browser, _) = try await Page.signIn(client, token: token)
            let page = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            for provider in ProviderKind.allCases {
                // The harness's OpenAI-compatible models are on the server named "fake": its card is named after it.
                let label = provider == .vertex ? "Vertex AI service account JSON key" : provider == .openaiCompatible ? "fake API key" : "\(provider.consoleName) API key"
                #expect(page.body.contains(">\(label)</label>"), "\(provider)")
            }

            let saved = try await Page.post(client, "/console/settings/openai", ["csrf": browser.csrf, "apiKey": "sk-erin-good-1234567890"], cookie: browser.cookie)
            #expect(saved.status == .seeOther && saved.headers[.location] == "/console/settings?done=saved")
            let keys = try await components.vault.list(.init(owner: "erin"))
            #expect(keys.map(\.provider) == [.openai] && keys.first?.isValid == true)
            let shown = try await Page.get(client, "/console/settings?done=saved", cookie: browser.cookie)
            #expect(shown.body.contains(keys[0].keyPrefix) && !shown.body.contains("sk-erin-good-1234567890"))

            let refused = try await Page.post(client, "/console/settings/anthropic", ["csrf": browser.csrf, "apiKey": "bad-erin-key-000"], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.body.contains(#"id="field-apiKey-anthropic-error""#) && refused.body.contains("rejected the key"))
            #expect(!refused.body.contains("bad-erin-key-000"))
            #expect(try await components.vault.list(.init(owner: "erin")).map(\.provider) == [.openai])

            // The same calls through the API leave the same audit entries.
            _ = try await client.call(.put, "/api/users/me/keys/gemini", token: token, json: #"{"apiKey": "sk-erin-good-api-123"}"#)
            _ = try await client.call(.put, "/api/users/me/keys/xai", token: token, json: #"{"apiKey": "bad-erin-api-000"}"#)
            #expect(try await Self.auditRows(components, provider: "openai") == Self.auditRows(components, provider: "gemini"))
            #expect(try await Self.auditRows(components, provider: "anthropic") == Self.auditRows(components, provider: "xai"))
            #expect(try await Self.auditRows(components, provider: "anthropic").first?[2] == "rejected")

            let deleted = try await Page.post(client, "/console/settings/openai/delete", ["csrf": browser.csrf], cookie: browser.cookie)
            #expect(deleted.status == .seeOther)
            #expect(try await components.vault.list(.init(owner: "erin", provider: .openai)).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.available)
    func eachOpenAICompatibleServerHasItsOwnCardAndKey(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            try await CompatibleServerTests.createModel(client, fakes, name: "alpha/echo", server: "alpha", variable: nil)
            let alphaURL = "http://\(fakes.host):\(fakes.port)/openai-compatible/alpha/v1"
            let token = try await Page.userToken(client, userId: "gwen")
            let (browser, _) = try await Page.signIn(client, token: token)
            let page = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            #expect(page.body.contains(">alpha API key</label>") && page.body.contains(">fake API key</label>"))
            #expect(page.body.contains(#"action="/console/settings/openai-compatible/alpha""#) && page.body.contains(alphaURL))

            // A card's key is bound to its server's base URL and named after it; a base URL the page does not offer is refused.
            let saved = try await Page.post(
                client, "/console/settings/openai-compatible/alpha", ["csrf": browser.csrf, "endpoint": alphaURL, "apiKey": "sk-gwen-alpha-123456"],
                cookie: browser.cookie)
            #expect(saved.status == .seeOther, "\(saved.body)")
            let keys = try await components.vault.list(.init(owner: "gwen"))
            #expect(keys.map(\.keyName) == ["alpha"] && keys.first?.endpoint == alphaURL && keys.first?.isValid == true)
            let elsewhere = try await Page.post(
                client, "/console/settings/openai-compatible/alpha", ["csrf": browser.csrf, "endpoint": "https://evil.example/v1", "apiKey": "sk-gwen-evil-123456"],
                cookie: browser.cookie)
            #expect(elsewhere.status == .notFound)
            let shown = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            #expect(shown.body.contains(keys[0].keyPrefix) && !shown.body.contains("sk-gwen-alpha-123456"))

            // The call to alpha carries gwen's key; the other server's card still has none.
            let answer = try await client.call(.post, "/v1/chat/completions", token: token, json: GatewayHarness.chatBody(model: "alpha/echo", stream: false))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(await fakes.recorder.last(provider: "openai-compatible")?.headers["authorization"] == "Bearer sk-gwen-alpha-123456")

            let deleted = try await Page.post(
                client, "/console/settings/openai-compatible/alpha/delete", ["csrf": browser.csrf, "endpoint": alphaURL], cookie: browser.cookie)
            #expect(deleted.status == .seeOther)
            #expect(try await components.vault.list(.init(owner: "gwen")).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.available)
    func theSettingsPageFollowsTheRegistry(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let token = try await Page.userToken(client, userId: "finn")
            let (browser, _) = try await Page.signIn(client, token: token)
            for model in components.registry.models(provider: .deepseek) {
                _ = try await client.call(.patch, "/api/models/\(model.id)", json: #"{"isActive": false}"#)
            }
            let without = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            #expect(!without.body.contains("DeepSeek API key") && without.body.contains("OpenAI API key"))
            let refused = try await Page.post(client, "/console/settings/deepseek", ["csrf": browser.csrf, "apiKey": "sk-good-000000"], cookie: browser.cookie)
            #expect(refused.status == .notFound)
            let one = try #require(components.registry.models(provider: .deepseek).first)
            _ = try await client.call(.patch, "/api/models/\(one.id)", json: #"{"isActive": true}"#)
            let with = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            #expect(with.body.contains("DeepSeek API key"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func aSharedKeyAddedInTheConsoleIsAuditedAsTheAPIsIs(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
            let added = try await Page.post(
                client, "/console/keys", ["csrf": browser.csrf, "provider": "openai", "keyName": "team", "apiKey": "sk-shared-good-123456"],
                cookie: browser.cookie)
            #expect(added.status == .seeOther)
            _ = try await client.call(.post, "/api/api-keys", json: #"{"shared": true, "provider": "gemini", "keyName": "team", "apiKey": "sk-shared-good-654321"}"#)
            #expect(try await Self.auditRows(components, provider: "openai") == Self.auditRows(components, provider: "gemini"))
            let list = try await Page.get(client, "/console/keys", cookie: browser.cookie)
            #expect(list.body.contains("Shared") && !list.body.contains("sk-shared-good-123456"))
        }
    }

    /// An admin's shared key for an OpenAI-compatible server: the server is chosen, and the key bound to its base URL.
    @Test func aSharedKeyForACompatibleServerNamesItsServer() async throws {
        try await GatewayHarness.run { client, fakes, components in
            try await CompatibleServerTests.createModel(client, fakes, name: "alpha/echo", server: "alpha", variable: nil)
            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
            let form = try await Page.get(client, "/console/keys", cookie: browser.cookie)
            #expect(form.body.contains(#"<option value="alpha""#), "\(form.body)")
            let unnamed = try await Page.post(
                client, "/console/keys", ["csrf": browser.csrf, "provider": "openai-compatible", "keyName": "team", "apiKey": "sk-shared-alpha-123456"],
                cookie: browser.cookie)
            #expect(unnamed.status == .unprocessableContent && unnamed.body.contains("is required for an openai-compatible key"))
            let added = try await Page.post(
                client, "/console/keys",
                ["csrf": browser.csrf, "provider": "openai-compatible", "server": "alpha", "keyName": "team", "apiKey": "sk-shared-alpha-123456"],
                cookie: browser.cookie)
            #expect(added.status == .seeOther, "\(added.body)")
            let key = try #require(try await components.vault.list(.init(provider: .openaiCompatible)).first)
            #expect(key.endpoint == "http://\(fakes.host):\(fakes.port)/openai-compatible/alpha/v1" && key.userId == nil)
            let list = try await Page.get(client, "/console/keys", cookie: browser.cookie)
            #expect(list.body.contains("OpenAI-compatible: alpha"))
        }
    }
}

/// The Bedrock card: an AWS key pair (or a Bedrock API key) and its region, checked with the fake Bedrock's signature check.
@Suite struct ConsoleBedrockSettingsTests {
    typealias Page = ConsoleSecurityTests

    @Test(arguments: TestDatabase.available)
    func aUserStoresAKeyPairForARegion(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let token = try await Page.userToken(client, userId: "gwen")
            let (browser, _) = try await Page.signIn(client, token: token)
            let page = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            for label in ["AWS access key ID", "AWS secret access key", "AWS session token", "AWS region", "Amazon Bedrock API key"] {
                #expect(page.body.contains(">\(label)</label>"), "\(label)")
            }
            #expect(page.body.contains(#"name="secretAccessKey" value="" autocomplete="off""#) && page.body.contains(#"type="password" id="field-secretAccessKey-bedrock""#))

            // A missing secret: the error sits next to its field, the key id typed is kept, nothing is stored.
            let missing = try await Page.post(
                client, "/console/settings/bedrock", ["csrf": browser.csrf, "accessKeyId": FakeBedrockCredentials.accessKeyId, "region": "eu-west-1"],
                cookie: browser.cookie)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.body.contains(#"id="field-secretAccessKey-bedrock-error""#), "\(missing.body)")
            #expect(missing.body.contains(#"value="\#(FakeBedrockCredentials.accessKeyId)""#) && missing.body.contains(#"value="eu-west-1""#))

            // A secret the fake's signature check refuses: refused next to the key id, never shown again.
            let wrong = "wrongSecretKey/0000+notTheOneTheFakeKnows"
            let refused = try await Page.post(
                client, "/console/settings/bedrock",
                ["csrf": browser.csrf, "accessKeyId": FakeBedrockCredentials.accessKeyId, "secretAccessKey": wrong, "region": "eu-west-1"], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent && refused.body.contains(#"id="field-accessKeyId-bedrock-error""#) && refused.body.contains("rejected the key"))
            #expect(!refused.body.contains(wrong))
            #expect(try await components.vault.list(.init(owner: "gwen")).isEmpty)

            let saved = try await Page.post(
                client, "/console/settings/bedrock",
                ["csrf": browser.csrf, "accessKeyId": FakeBedrockCredentials.accessKeyId, "secretAccessKey": FakeBedrockCredentials.secretAccessKey,
                 "sessionToken": "", "region": "eu-west-1"], cookie: browser.cookie)
            #expect(saved.status == .seeOther, "\(saved.body)")
            let key = try #require(try await components.vault.list(.init(owner: "gwen", provider: .bedrock)).first)
            #expect(key.keyPrefix == "********0001" && key.metadata["region"] == .string("eu-west-1") && key.isValid == true)
            let shown = try await Page.get(client, "/console/settings", cookie: browser.cookie)
            #expect(shown.body.contains("<code>********0001</code>") && !shown.body.contains(FakeBedrockCredentials.secretAccessKey))
        }
    }
}
