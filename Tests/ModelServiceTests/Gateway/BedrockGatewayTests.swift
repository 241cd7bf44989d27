import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Bedrock through the gateway over real HTTP to the fake Bedrock, which checks every SigV4 signature: keys
/// stored as a pair, as an API key and from the environment; both doors, streamed and not; tools both ways;
/// usage with the prompt cache; and the stream's failures (a corrupt frame, an exception) ending calls cleanly.
@Suite struct BedrockGatewayTests {
    /// A shared key pair for the fake's long-term credentials, stored (and validated) through the key API.
    static func storeKeyPair(
        _ client: any TestClientProtocol, secret: String = FakeBedrockCredentials.secretAccessKey, region: String = "us-west-2", query: String = ""
    ) async throws -> (status: HTTPResponse.Status, body: String) {
        let body = """
            {"shared": true, "provider": "bedrock", "keyName": "pair", "accessKeyId": "\(FakeBedrockCredentials.accessKeyId)",
             "secretAccessKey": "\(secret)", "region": "\(region)"}
            """
        let answer = try await client.call(.post, "/api/api-keys\(query)", json: body)
        return (answer.status, answer.body)
    }

    /// A Bedrock model in `region` whose fake upstream is `upstream`.
    static func model(_ client: any TestClientProtocol, _ name: String, upstream: String, region: String = "us-west-2") async throws {
        let body = """
            {"name": "\(name)", "provider": "bedrock", "modelId": "\(upstream)", "maxTokens": 300, "providerSettings": {"region": "\(region)"},
             "inputCostPerMillion": 3, "outputCostPerMillion": 15, "cacheReadCostPerMillion": 0.3, "cacheWriteCostPerMillion": 3.75}
            """
        let created = try await client.call(.post, "/api/models", json: body)
        #expect(created.status == .created, "\(created.body)")
    }

    static func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    @Test(arguments: TestDatabase.available)
    func aStoredKeyPairSignsEveryCallAndUsageKeepsTheCache(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            let stored = try await Self.storeKeyPair(client)
            #expect(stored.status == .created, "\(stored.body)")
            let key = try decodeJSON(APIKey.self, stored.body)
            // Bound to its region's endpoint (here the fake stands for every region), masked to the key id's last 4.
            #expect(key.keyPrefix == "********0001" && key.endpoint == fakes.baseURL(.bedrock) && key.metadata["region"] == .string("us-west-2"))
            // Validation asked ListFoundationModels, signed for the key's region.
            let validation = try #require(await fakes.recorder.requests.last { $0.provider == "bedrock" && $0.method == "GET" })
            #expect(validation.path == "/bedrock/foundation-models")
            #expect(validation.headers["authorization"]?.contains("/us-west-2/bedrock/aws4_request") == true)

            // A model id with `:` (as Bedrock's all have) goes escaped in the path, and is signed so.
            try await Self.model(client, "bedrock/cached", upstream: "fake-echo-cached-3-2-0-v1:0")
            for stream in [false, true] {
                let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "bedrock/cached", stream: stream))
                #expect(response.status == .ok, "\(response.body)")
                let text = stream ? GatewayHarness.joinedText(GatewayHarness.events(response.body).events) : try GatewayHarness.message(response.body)["content"] as? String
                #expect(text == "Echo from bedrock: Hello there")
                let received = try #require(await fakes.recorder.last(provider: "bedrock"))
                #expect(received.path == "/bedrock/model/fake-echo-cached-3-2-0-v1%3A0/\(stream ? "converse-stream" : "converse")")
                #expect(received.headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=\(FakeBedrockCredentials.accessKeyId)/") == true)
                #expect(received.headers["authorization"]?.contains("/us-west-2/bedrock/aws4_request") == true)
                // Input 5 words, 3 read from the cache and 2 written to it: each recorded, each priced.
                let row = try await ExactCostTests.lastRow(components)
                #expect(row.prompt == 10 && row.completion == 5 && row.cacheRead == 3 && row.cacheWrite == 2 && row.cacheWrite1h == 0)
                #expect(abs(row.cost - (5 * 3 + 5 * 15 + 3 * 0.3 + 2 * 3.75) / 1_000_000) < 1e-12)
            }
            #expect(try await components.vault.list(.init(owner: RecordBinding.sharedOwner, provider: .bedrock)).first?.usageCount ?? 0 >= 2)
        }
    }

    @Test(arguments: TestDatabase.available)
    func theAnthropicDoorIsTranslated(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, _ in
            _ = try await Self.storeKeyPair(client)
            try await Self.model(client, "bedrock/claude", upstream: "fake-echo-cached-3-2-0")
            let body = #"{"model": "bedrock/claude", "max_tokens": 50, "system": "You are terse.", "messages": [{"role": "user", "content": "Hello there"}]}"#
            let answer = try await client.call(.post, "/v1/messages", json: body)
            #expect(answer.status == .ok, "\(answer.body)")
            let message = try Self.object(answer.body)
            #expect(message["type"] as? String == "message")
            #expect(((message["content"] as? [[String: Any]])?.first?["text"] as? String) == "Echo from bedrock: Hello there")
            let usage = try #require(message["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == 5 && usage["cache_read_input_tokens"] as? Int == 3 && usage["cache_creation_input_tokens"] as? Int == 2)
            let sent = try #require(await fakes.recorder.last(provider: "bedrock")?.bodyObject)
            #expect((sent["inferenceConfig"] as? [String: Any])?["maxTokens"] as? Int == 50)

            let streamed = try await client.call(.post, "/v1/messages", json: body.replacingOccurrences(of: #""max_tokens": 50"#, with: #""max_tokens": 50, "stream": true"#))
            #expect(streamed.status == .ok && streamed.body.contains("event: message_stop") && streamed.body.contains("Hello"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func aToolCallAndItsResultMakeTheRoundTrip(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, _ in
            let model = GatewayHarness.modelName(.bedrock, "fake-tool")
            let first = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false, tools: true))
            #expect(first.status == .ok, "\(first.body)")
            let call = try #require((try GatewayHarness.message(first.body)["tool_calls"] as? [[String: Any]])?.first)
            let id = try #require(call["id"] as? String)
            #expect(id.hasPrefix("tooluse_"))
            let tools = #"[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]"#
            let second = """
                {"model": "\(model)", "tools": \(tools), "messages": [
                  {"role": "user", "content": "Weather in Paris?"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "\(id)", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]},
                  {"role": "tool", "tool_call_id": "\(id)", "content": "21 degrees"}]}
                """
            for stream in [false, true] {
                let answer = try await client.call(.post, "/v1/chat/completions", json: second.replacingOccurrences(of: #""tools":"#, with: #""stream": \#(stream), "tools":"#))
                #expect(answer.status == .ok, "\(answer.body)")
                let sent = try #require(await fakes.recorder.last(provider: "bedrock")?.bodyObject)
                let messages = try #require(sent["messages"] as? [[String: Any]])
                #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"])
                let use = try #require(((messages[1]["content"] as? [[String: Any]])?.first?["toolUse"]) as? [String: Any])
                #expect(use["toolUseId"] as? String == id && use["input"] as? [String: String] == ["city": "Paris"])
                let result = try #require(((messages[2]["content"] as? [[String: Any]])?.first?["toolResult"]) as? [String: Any])
                #expect(result["toolUseId"] as? String == id && result["status"] as? String == "success")
                #expect((result["content"] as? [[String: String]]) == [["text": "21 degrees"]])
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func aBrokenStreamEndsWithAnErrorEventAndTheServiceKeepsServing(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, _ in
            for (upstream, words) in [("fake-echo-corrupt-frame", ["corrupt", "CRC"]), ("fake-echo-stream-exception", ["modelStreamErrorException"])] {
                try await Self.model(client, "bedrock/\(upstream)", upstream: upstream)
                let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "bedrock/\(upstream)", stream: true))
                #expect(response.status == .ok)
                let (events, done) = GatewayHarness.events(response.body)
                #expect(GatewayHarness.joinedText(events).hasPrefix("Echo"), "the stream began: \(response.body)")
                let error = try #require(events.last?["error"] as? [String: Any], "\(response.body)")
                let message = try #require(error["message"] as? String)
                #expect(words.allSatisfy(message.contains), "\(message)")
                #expect(!response.body.contains("corrupted"), "no byte of the broken frame reaches the client")
                #expect(done)
                let after = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.bedrock), stream: true))
                #expect(after.status == .ok && GatewayHarness.joinedText(GatewayHarness.events(after.body).events) == "Echo from bedrock: Hello there")
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func aWrongSecretIsRefusedByTheSignatureCheck(_ database: TestDatabase) async throws {
        let wrong = "wrongSecretKey/0000+notTheOneTheFakeKnows"
        // The server's own pair is wrong too: after the stored key's refusal the call moves on to it, and ends refused.
        let environment = ["AWS_BEARER_TOKEN_BEDROCK": "", "AWS_ACCESS_KEY_ID": FakeBedrockCredentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": wrong]
        try await GatewayHarness.run(database: database, extra: environment) { client, _, components in
            let refused = try await Self.storeKeyPair(client, secret: wrong)
            #expect(refused.status.code == 422 && refused.body.contains("signature we calculated does not match"), "\(refused.body)")
            #expect(!refused.body.contains(wrong))

            let unchecked = try await Self.storeKeyPair(client, secret: wrong, query: "?skipValidation=true")
            #expect(unchecked.status == .created)
            try await Self.model(client, "bedrock/signed", upstream: "fake-echo")
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: "bedrock/signed", stream: true))
            #expect(response.status.code == 424, "\(response.body)")
            let error = try decodeJSON(ErrorBody.self, response.body).error
            #expect(error.code == "provider_key_rejected" && error.message.contains("signature") && !response.body.contains(wrong))
            #expect(error.message.contains("********0001"), "the refusal names the key by its masked id: \(error.message)")
            // The refusal marks the key invalid (written off the call's path).
            var isValid: Bool? = nil
            for _ in 0..<50 where isValid != false {
                isValid = try await components.vault.list(.init(owner: RecordBinding.sharedOwner, provider: .bedrock)).first?.isValid
                if isValid != false { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(isValid == false)
        }
    }

    @Test(arguments: TestDatabase.available)
    func theEnvironmentsKeyPairServesWithItsSessionToken(_ database: TestDatabase) async throws {
        let environment = [
            "AWS_BEARER_TOKEN_BEDROCK": "", "AWS_ACCESS_KEY_ID": FakeBedrockCredentials.sessionAccessKeyId,
            "AWS_SECRET_ACCESS_KEY": FakeBedrockCredentials.sessionSecretAccessKey, "AWS_SESSION_TOKEN": FakeBedrockCredentials.sessionToken,
            "AWS_REGION": "eu-central-1",
        ]
        try await GatewayHarness.run(database: database, extra: environment) { client, fakes, _ in
            for stream in [false, true] {
                let response = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.bedrock), stream: stream))
                #expect(response.status == .ok, "\(response.body)")
                let received = try #require(await fakes.recorder.last(provider: "bedrock"))
                // The model names no region: AWS_REGION's.
                #expect(received.headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=\(FakeBedrockCredentials.sessionAccessKeyId)/") == true)
                #expect(received.headers["authorization"]?.contains("/eu-central-1/bedrock/") == true)
                #expect(received.headers["x-amz-security-token"] == FakeBedrockCredentials.sessionToken)
            }
        }
        // Without any Bedrock variable the refusal names them all.
        try await GatewayHarness.run(database: database, withEnvKeys: false) { client, _, _ in
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.bedrock), stream: false))
            let message = try decodeJSON(ErrorBody.self, response.body).error.message
            #expect(message.contains("AWS_BEARER_TOKEN_BEDROCK") && message.contains("AWS_ACCESS_KEY_ID"), "\(message)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aBedrockAPIKeyIsSentAsABearerToken(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, withEnvKeys: false) { client, fakes, _ in
            let stored = try await client.call(
                .post, "/api/api-keys", json: #"{"shared": true, "provider": "bedrock", "apiKey": "\#(FakeBedrockCredentials.apiKey)", "region": "us-east-1"}"#)
            #expect(stored.status == .created, "\(stored.body)")
            #expect(await fakes.recorder.last(provider: "bedrock")?.headers["authorization"] == "Bearer \(FakeBedrockCredentials.apiKey)")
            let response = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.bedrock), stream: false))
            #expect(response.status == .ok, "\(response.body)")
            let received = try #require(await fakes.recorder.last(provider: "bedrock"))
            #expect(received.path == "/bedrock/model/fake-echo/converse" && received.headers["authorization"] == "Bearer \(FakeBedrockCredentials.apiKey)")
            // Validation again, on demand: ListFoundationModels once more.
            let key = try decodeJSON(APIKey.self, stored.body)
            let before = await fakes.recorder.requests.filter { $0.path == "/bedrock/foundation-models" }.count
            let validated = try await client.call(.post, "/api/api-keys/\(key.id)/validate")
            #expect(validated.status == .ok && validated.body.contains(#""result":"valid""#), "\(validated.body)")
            #expect(await fakes.recorder.requests.filter { $0.path == "/bedrock/foundation-models" }.count == before + 1)
        }
    }

    @Test(arguments: TestDatabase.available)
    func theKeyAPIRefusesBadFieldsByName(_ database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, _ in
            let secret = "aSecretThatMustNotEcho/123"
            let cases: [(String, String)] = [
                (#"{"provider": "bedrock", "accessKeyId": "\#(FakeBedrockCredentials.accessKeyId)", "region": "us-east-1"}"#, "secretAccessKey"),
                (#"{"provider": "bedrock", "secretAccessKey": "\#(secret)"}"#, "accessKeyId"),
                (#"{"provider": "bedrock", "accessKeyId": "\#(FakeBedrockCredentials.accessKeyId)", "secretAccessKey": "\#(secret)", "region": "moon/1"}"#, "region"),
                (#"{"provider": "openai", "accessKeyId": "\#(FakeBedrockCredentials.accessKeyId)", "secretAccessKey": "\#(secret)"}"#, "accessKeyId"),
                (#"{"provider": "openai"}"#, "apiKey"),
            ]
            for (body, field) in cases {
                let answer = try await client.call(.post, "/api/api-keys", json: body)
                #expect(answer.status == .badRequest, "\(body): \(answer.body)")
                #expect(answer.body.contains("\"\(field):") || answer.body.contains("\(field):"), "\(answer.body)")
                #expect(!answer.body.contains(secret))
            }
            // A model's region goes into a host name: only a region name is accepted.
            let badRegion = try await client.call(
                .post, "/api/models", json: #"{"name": "bedrock/x", "provider": "bedrock", "modelId": "m", "providerSettings": {"region": "x.evil.com/#"}}"#)
            #expect(badRegion.status == .badRequest && badRegion.body.contains("providerSettings.region"), "\(badRegion.body)")
            // The user's own settings endpoint takes the same shape.
            let user = try await VaultAPI.token(client, role: "user", userId: "bea")
            let put = try await client.call(
                .put, "/api/users/me/keys/bedrock", token: user,
                json: #"{"accessKeyId": "\#(FakeBedrockCredentials.accessKeyId)", "secretAccessKey": "\#(FakeBedrockCredentials.secretAccessKey)", "region": "eu-west-1"}"#)
            #expect(put.status == .created, "\(put.body)")
            #expect(try decodeJSON(APIKey.self, put.body).keyPrefix == "********0001")
        }
    }
}
