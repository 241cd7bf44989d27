import Foundation
import ModelServiceCore
import Testing

@testable import FakeProviders

/// The fake Bedrock over real HTTP: signatures checked, Converse answers, ConverseStream as AWS event frames
/// (with the `corrupt-frame` and `stream-exception` behaviours), ListFoundationModels.
@Suite("Bedrock Converse fake")
struct BedrockFakeTests {
    static let body = Data(#"{"system":[{"text":"Answer well."}],"messages":[{"role":"user","content":[{"text":"what is up"}]}],"inferenceConfig":{"maxTokens":50}}"#.utf8)

    /// SigV4 headers for a request to `url`, signed with the given pair as the gateway signs them.
    static func signed(
        _ url: String, method: String = "POST", body: Data = body, accessKeyId: String = FakeBedrockCredentials.accessKeyId,
        secret: String = FakeBedrockCredentials.secretAccessKey, token: String? = nil
    ) throws -> [String: String] {
        let signer = AWSSigV4Signer(
            credentials: AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: token), region: "us-east-1", service: "bedrock")
        let contentType = method == "POST" ? [("content-type", "application/json")] : []
        let added = try signer.signatureHeaders(method: method, url: URL(string: url)!, headers: contentType, payload: .bytes(Array(body)), date: Date())
        var headers = Dictionary(uniqueKeysWithValues: added.map { ($0.name, $0.value) })
        if method == "POST" { headers["Content-Type"] = "application/json" }
        return headers
    }

    static func url(_ server: RunningFakeProviders, _ model: String, stream: Bool = false) -> String {
        server.baseURL(.bedrock) + "/model/\(model)/" + (stream ? "converse-stream" : "converse")
    }

    /// The frames of an event-stream body, and the decoder's error if one broke.
    static func frames(_ data: Data) -> (messages: [AWSEventStreamMessage], error: AWSEventStreamError?) {
        var decoder = AWSEventStreamDecoder()
        decoder.append(Array(data))
        var messages: [AWSEventStreamMessage] = []
        do {
            while let message = try decoder.next() { messages.append(message) }
            return (messages, nil)
        } catch {
            return (messages, error)
        }
    }

    @Test("a signed Converse call answers with output, stop reason and usage")
    func signedConverse() async throws {
        try await FakeHTTP.withServer { server in
            let url = Self.url(server, "fake-echo-v1%3A0")
            let result = try await FakeHTTP.send(url, headers: try Self.signed(url), body: Self.body)
            #expect(result.status == 200, "\(result.text)")
            let message = (result.json["output"] as? [String: Any])?["message"] as? [String: Any]
            #expect((message?["content"] as? [[String: Any]])?.first?["text"] as? String == "Echo from bedrock: what is up")
            #expect(result.json["stopReason"] as? String == "end_turn")
            #expect((result.json["usage"] as? [String: Any])?["inputTokens"] as? Int == 5)
            #expect(await server.recorder.last(provider: .bedrock)?.path == "/bedrock/model/fake-echo-v1%3A0/converse")
        }
    }

    @Test("a wrong secret, an unknown key id or a changed body get AWS's 403; a bearer key passes unless bad")
    func signatureCheck() async throws {
        try await FakeHTTP.withServer { server in
            let url = Self.url(server, "fake-echo")
            let wrong = try await FakeHTTP.send(url, headers: try Self.signed(url, secret: "not-the-secret"), body: Self.body)
            #expect(wrong.status == 403 && (wrong.json["message"] as? String)?.hasPrefix("The request signature we calculated does not match") == true)
            #expect(wrong.header("x-amzn-ErrorType") == "InvalidSignatureException")
            let changed = try await FakeHTTP.send(url, headers: try Self.signed(url), body: Self.body + Data(" ".utf8))
            #expect(changed.status == 403)
            let unknown = try await FakeHTTP.send(url, headers: try Self.signed(url, accessKeyId: "AKIAUNKNOWN000000000"), body: Self.body)
            #expect(unknown.status == 403 && unknown.json["message"] as? String == "The security token included in the request is invalid.")
            // Temporary credentials must carry their token.
            let session = try Self.signed(
                url, accessKeyId: FakeBedrockCredentials.sessionAccessKeyId, secret: FakeBedrockCredentials.sessionSecretAccessKey,
                token: FakeBedrockCredentials.sessionToken)
            #expect(try await FakeHTTP.send(url, headers: session, body: Self.body).status == 200)
            let bearer = try await FakeHTTP.send(url, headers: ["Authorization": "Bearer \(FakeBedrockCredentials.apiKey)", "Content-Type": "application/json"], body: Self.body)
            #expect(bearer.status == 200)
            #expect(try await FakeHTTP.send(url, headers: ["Authorization": "Bearer bad-key"], body: Self.body).status == 403)
            #expect(try await FakeHTTP.send(url, body: Self.body).status == 403)
            let limited = try await FakeHTTP.send(Self.url(server, "fake-rate-limit"), headers: try Self.signed(Self.url(server, "fake-rate-limit")), body: Self.body)
            #expect(limited.status == 429 && limited.header("x-amzn-ErrorType") == "ThrottlingException" && limited.header("Retry-After") == "7")
        }
    }

    @Test("ConverseStream frames events as AWS does, usage with the cache after messageStop")
    func streamFrames() async throws {
        try await FakeHTTP.withServer { server in
            let url = Self.url(server, "fake-echo-cached-3-2-0", stream: true)
            let result = try await FakeHTTP.send(url, headers: try Self.signed(url), body: Self.body)
            #expect(result.status == 200 && result.header("Content-Type") == "application/vnd.amazon.eventstream")
            let (messages, error) = Self.frames(result.body)
            #expect(error == nil)
            #expect(messages.allSatisfy { $0.messageType == "event" && $0.contentType == "application/json" })
            let types = messages.compactMap(\.eventType)
            #expect(types.first == "messageStart" && types.suffix(3) == ["contentBlockStop", "messageStop", "metadata"])
            let text = messages.filter { $0.eventType == "contentBlockDelta" }.compactMap { message -> String? in
                let object = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any]
                return (object?["delta"] as? [String: Any])?["text"] as? String
            }
            #expect(text.joined() == "Echo from bedrock: what is up")
            let metadata = try #require(messages.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload)) as? [String: Any] })
            let usage = try #require(metadata["usage"] as? [String: Any])
            #expect(usage["cacheReadInputTokens"] as? Int == 3 && usage["cacheWriteInputTokens"] as? Int == 2 && usage["inputTokens"] as? Int == 5)
        }
    }

    @Test("corrupt-frame breaks a CRC after the first text; stream-exception ends with an exception message")
    func brokenStreams() async throws {
        try await FakeHTTP.withServer { server in
            let corruptURL = Self.url(server, "fake-echo-corrupt-frame", stream: true)
            let corrupt = try await FakeHTTP.send(corruptURL, headers: try Self.signed(corruptURL), body: Self.body)
            let (before, error) = Self.frames(corrupt.body)
            #expect(before.map(\.eventType) == ["messageStart", "contentBlockDelta"])
            guard case .messageCRCMismatch = error else { Issue.record("expected a CRC mismatch, got \(String(describing: error))"); return }

            let exceptionURL = Self.url(server, "fake-echo-stream-exception", stream: true)
            let exception = try await FakeHTTP.send(exceptionURL, headers: try Self.signed(exceptionURL), body: Self.body)
            let (messages, failure) = Self.frames(exception.body)
            #expect(failure == nil)
            #expect(messages.last?.messageType == "exception" && messages.last?.exceptionType == "modelStreamErrorException")
        }
    }

    @Test("ListFoundationModels lists the fake's models to a signed GET")
    func foundationModels() async throws {
        try await FakeHTTP.withServer { server in
            let url = server.baseURL(.bedrock) + "/foundation-models"
            let result = try await FakeHTTP.get(url, headers: try Self.signed(url, method: "GET", body: Data()))
            #expect(result.status == 200, "\(result.text)")
            let ids = (result.json["modelSummaries"] as? [[String: Any]])?.compactMap { $0["modelId"] as? String }
            #expect(ids?.contains("fake-echo") == true)
            #expect(try await FakeHTTP.get(url, headers: try Self.signed(url, method: "GET", body: Data(), secret: "nope")).status == 403)
        }
    }
}
