import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Scoped access tokens (issue 23): a `models` list of names and `provider/*` patterns, and the token's own limits.
@Suite struct ScopedTokenTests {
    /// A token made through the API with `extra` members; returns its secret and record.
    static func token(_ client: any TestClientProtocol, _ extra: String) async throws -> (String, [String: Any]) {
        let created = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "scoped-user", \#(extra)}"#)
        #expect(created.status == .created, "\(created.body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])
        return (try #require(object["token"] as? String), try #require(object["accessToken"] as? [String: Any]))
    }

    @Test(arguments: TestDatabase.available)
    func aTokenLimitedToOpenAIIsRefusedOtherModelsAndListsOnlyItsOwn(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, _ in
            let (secret, record) = try await Self.token(client, #""models": ["openai/*", "test-gemini/fake-echo"]"#)
            #expect(record["models"] as? [String] == ["openai/*", "test-gemini/fake-echo"])

            // "openai/*" is a pattern on registry names: the harness's OpenAI models are named test-openai/…, so only
            // the one Gemini model named outright is allowed.
            let anthropic = GatewayHarness.modelName(.anthropic)
            for (path, body) in [
                ("/v1/chat/completions", GatewayHarness.chatBody(model: anthropic, stream: false)),
                ("/v1/messages", #"{"model": "\#(anthropic)", "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}"#),
            ] {
                let refused = try await client.call(.post, path, token: secret, json: body)
                #expect(refused.status == .forbidden, "\(refused.body)")
                #expect(refused.body.contains("model_not_allowed") || refused.body.contains("permission_error"), "\(refused.body)")
                #expect(refused.body.contains(anthropic) && !refused.body.contains("openai/*"), "\(refused.body)")
            }
            #expect(await fakes.recorder.last(provider: "anthropic") == nil)

            let allowed = try await client.call(
                .post, "/v1/chat/completions", token: secret, json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.gemini), stream: false))
            #expect(allowed.status == .ok, "\(allowed.body)")
            let listed = try await client.call(.get, "/v1/models", token: secret)
            let ids = try #require(try JSONSerialization.jsonObject(with: Data(listed.body.utf8)) as? [String: Any])["data"] as? [[String: Any]]
            #expect(ids?.compactMap { $0["id"] as? String } == [GatewayHarness.modelName(.gemini)], "\(listed.body)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aProviderPatternAllowsThatProvidersModelsAndNoFallbackOutsideIt(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, _ in
            // A model under "openai/" whose upstream fails, with a fallback the token may not call.
            let created = try await client.call(
                .post, "/api/models",
                json: #"{"name": "openai/failing", "provider": "openai", "modelId": "fake-error-500", "fallbacks": ["\#(GatewayHarness.modelName(.anthropic))"]}"#)
            #expect(created.status == .created, "\(created.body)")
            _ = try await client.call(.post, "/api/models", json: #"{"name": "openai/echo", "provider": "openai", "modelId": "fake-echo"}"#)
            let (secret, _) = try await Self.token(client, #""models": ["OpenAI/*"]"#)
            let echo = try await client.call(.post, "/v1/chat/completions", token: secret, json: GatewayHarness.chatBody(model: "openai/echo", stream: false))
            #expect(echo.status == .ok, "\(echo.body)")
            let failing = try await client.call(.post, "/v1/chat/completions", token: secret, json: GatewayHarness.chatBody(model: "openai/failing", stream: false))
            #expect(failing.status.code >= 500, "\(failing.body)")
            #expect(await fakes.recorder.last(provider: "anthropic") == nil)
            // An unscoped token falls back as before.
            let (open, _) = try await Self.token(client, #""name": "open""#)
            let fellBack = try await client.call(.post, "/v1/chat/completions", token: open, json: GatewayHarness.chatBody(model: "openai/failing", stream: false))
            #expect(fellBack.status == .ok, "\(fellBack.body)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aTokensOwnRequestLimitHoldsOverEveryModel(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, _ in
            // Fixed windows: the three calls must fall in one minute.
            try await MultiInstanceTrafficTests.awayFromAMinuteBoundary()
            let (secret, record) = try await Self.token(client, #""rateLimitPerMinute": 2"#)
            #expect(record["rateLimitPerMinute"] as? Int == 2)
            var statuses: [HTTPResponse.Status] = []
            var last = ""
            for provider in [ProviderKind.openai, .gemini, .anthropic] {
                let answer = try await client.call(
                    .post, "/v1/chat/completions", token: secret, json: GatewayHarness.chatBody(model: GatewayHarness.modelName(provider), stream: false))
                statuses.append(answer.status)
                last = answer.body
            }
            // Two calls a minute, whichever models they go to; the third is refused naming the token, not a model.
            #expect(statuses == [.ok, .ok, .tooManyRequests], "\(last)")
            #expect(last.contains("this access token") && last.contains("2 requests per minute"), "\(last)")
        }
    }

    @Test func aScopeIsCheckedWhenTheTokenIsMade() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL()) { client, _ in
            for (extra, field) in [
                (#""models": []"#, "models"), (#""models": ["open*ai/x"]"#, "models"), (#""models": ["*"]"#, "models"),
                (#""models": ["a b"]"#, "models"), (#""rateLimitPerMinute": 0"#, "rateLimitPerMinute"),
                (#""tokenLimitPerMinute": -5"#, "tokenLimitPerMinute"),
            ] {
                let refused = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "u", \#(extra)}"#)
                #expect(refused.status == .badRequest && refused.body.contains(field), "\(extra): \(refused.body)")
            }
            let many = (0...ModelScope.maxEntries).map { "\"m\($0)\"" }.joined(separator: ",")
            let tooMany = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "u", "models": [\#(many)]}"#)
            #expect(tooMany.status == .badRequest)
        }
    }

    @Test func patternsMatchRegistryNamesOnly() {
        let scope = ModelScope(["anthropic/*", "openai/gpt-4o"])
        #expect(scope.allows("anthropic/claude-sonnet-4") && scope.allows("Anthropic/Claude"))
        #expect(scope.allows("openai/gpt-4o") && scope.allows("OPENAI/GPT-4O"))
        #expect(!scope.allows("openai/gpt-4o-mini") && !scope.allows("anthropic/") && !scope.allows("anthropic") && !scope.allows("bedrock/anthropic/x"))
    }

    @Test func theConsoleMakesAScopedToken() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL()) { client, components in
            typealias Page = ConsoleSecurityTests
            let (browser, _) = try await Page.signIn(client, token: TestApp.adminToken)
            let refused = try await Page.post(
                client, "/console/tokens", ["csrf": browser.csrf, "role": "service", "models": "openai/*, *", "rateLimitPerMinute": "ten"], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent && refused.body.contains("must be a whole number"), "\(refused.body)")
            let created = try await Page.post(
                client, "/console/tokens",
                ["csrf": browser.csrf, "role": "service", "name": "ci", "models": "openai/*, anthropic/claude-sonnet-4", "rateLimitPerMinute": "30"],
                cookie: browser.cookie)
            #expect(created.status == .ok && created.body.contains("msk_"), "\(created.body)")
            let token = try #require(try await components.tokens.list().first { $0.name == "ci" })
            #expect(token.models == ["openai/*", "anthropic/claude-sonnet-4"] && token.rateLimitPerMinute == 30)
            let list = try await Page.get(client, "/console/tokens", cookie: browser.cookie)
            #expect(list.body.contains("openai/*, anthropic/claude-sonnet-4"))
        }
    }
}
