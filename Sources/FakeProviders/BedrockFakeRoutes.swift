import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// Amazon Bedrock's Converse API (`/model/{modelId}/converse`, `/converse-stream` as an AWS event stream) and
/// ListFoundationModels (`/foundation-models`), with SigV4 signatures checked against ``FakeBedrockCredentials``.
///
/// Beside the shared behaviours, a `corrupt-frame` model's stream breaks a frame's CRC after the first text, and a
/// `stream-exception` model's stream ends with an exception message (`modelStreamErrorException`).
struct BedrockFakeRoutes: FakeDialect {
    var provider: FakeProvider { .bedrock }

    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        let dialect = BedrockFakeRoutes()
        let group = router.group("bedrock")
        group.post("model/:modelId/converse") { request, context in
            try await pipeline.chat(request, context: context, dialect: dialect)
        }
        group.post("model/:modelId/converse-stream") { request, context in
            try await pipeline.chat(request, context: context, dialect: dialect)
        }
        group.get("foundation-models") { request, _ in
            try await pipeline.authorized(request, dialect: dialect) { dialect.modelList() }
        }
    }

    /// The bearer token, or the access key id a SigV4 `Authorization` names (so `rate-limited` rules still apply).
    func apiKey(in request: Request) -> String? {
        if let token = request.bearerToken { return token }
        return Self.signedAccessKeyId(request)
    }

    func authenticate(_ request: Request, body: ByteBuffer) -> Response? {
        guard let accessKeyId = Self.signedAccessKeyId(request) else { return nil }
        guard let credentials = FakeBedrockCredentials.known[accessKeyId] else {
            return Self.error(.forbidden, type: "UnrecognizedClientException", message: "The security token included in the request is invalid.")
        }
        let verifier = AWSSigV4Verifier(credentials: credentials, expectedService: BedrockAdapter.signingService)
        // HTTPTypes keeps `Host` out of the header fields, as the `:authority` pseudo-header.
        var headers = request.headers.map { ($0.name.canonicalName, $0.value) }
        if let authority = request.head.authority { headers.append(("host", authority)) }
        let result = verifier.verify(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers, body: Array(body.readableBytesView),
            now: Date())
        guard result.isValid else {
            return Self.error(
                .forbidden, type: "InvalidSignatureException",
                message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. "
                    + "Consult the service documentation for details.")
        }
        return nil
    }

    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat {
        let segment = context.parameters.get("modelId") ?? ""
        let model = segment.removingPercentEncoding ?? segment
        guard let messages = json["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw .badRequest("1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null")
        }
        var words = FakeText.wordCount(FakeText.text(ofContent: json["system"]))
        var lastUser = ""
        for message in messages {
            let text = FakeText.text(ofContent: message["content"])
            words += FakeText.wordCount(text)
            if message["role"] as? String == "user" { lastUser = text }
        }
        let tools = (json["toolConfig"] as? [String: Any])?["tools"] as? [Any]
        return FakeChat(
            model: model, lastUserText: lastUser, promptTokens: words, hasTools: tools?.isEmpty == false,
            stream: request.uri.path.hasSuffix("/converse-stream"))
    }

    func errorResponse(_ failure: FakeFailure) -> Response {
        switch failure {
        case .missingKey: Self.error(.forbidden, type: "MissingAuthenticationTokenException", message: "Missing Authentication Token")
        case .invalidKey: Self.error(.forbidden, type: "AccessDeniedException", message: "Authentication failed: Please make sure your API Key is valid.")
        case .forbidden: Self.error(.forbidden, type: "AccessDeniedException", message: "You don't have access to the model with the specified model ID.")
        case .badRequest(let message): Self.error(.badRequest, type: "ValidationException", message: message)
        case .notFound(let message): Self.error(.notFound, type: "ResourceNotFoundException", message: message)
        case .serverError: Self.error(.internalServerError, type: "InternalServerException", message: "The server encountered an internal error.")
        case .rateLimited: Self.error(.tooManyRequests, type: "ThrottlingException", message: "Too many requests, please wait before trying again.")
        }
    }

    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response {
        var content: [[String: Any]] = []
        if chat.model.contains("think") { content.append(["reasoningContent": ["reasoningText": ["text": Self.thought, "signature": "fake-signature"]]]) }
        switch reply.content {
        case .text(let text): content.append(["text": text])
        case .toolCall: content.append(["toolUse": ["toolUseId": Self.toolUseId, "name": FakeReply.toolName, "input": ["city": "Paris"]]])
        }
        return FakeJSON.response([
            "output": ["message": ["role": "assistant", "content": content]],
            "stopReason": Self.stopReason(reply),
            "usage": Self.usage(reply),
            "metrics": ["latencyMs": 12],
        ])
    }

    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer] {
        BedrockFakeStream.frames(chat: chat, reply: reply)
    }

    func streamContentType(request: Request) -> String { BedrockAdapter.eventStreamType }

    func modelList() -> Response {
        let summaries = FakeProvider.listedModels.map { model -> [String: Any] in
            [
                "modelId": model, "modelName": model, "providerName": "Fake", "inputModalities": ["TEXT"], "outputModalities": ["TEXT"],
                "responseStreamingSupported": true,
            ]
        }
        return FakeJSON.response(["modelSummaries": summaries])
    }

    static let toolUseId = "tooluse_fake0000000000000001"
    static let thought = "Thinking it over."

    static func stopReason(_ reply: FakeReply) -> String {
        if case .toolCall = reply.content { return "tool_use" }
        return "end_turn"
    }

    /// Bedrock's usage: `inputTokens` without the cache, reads and writes apart (a `cached-…` model's counts).
    static func usage(_ reply: FakeReply) -> [String: Any] {
        guard let cache = reply.cache else {
            return [
                "inputTokens": reply.count(reply.promptTokens), "outputTokens": reply.count(reply.completionTokens),
                "totalTokens": reply.count(reply.totalTokens),
            ]
        }
        let writes = cache.write + cache.write1h
        return [
            "inputTokens": reply.promptTokens, "outputTokens": reply.completionTokens, "cacheReadInputTokens": cache.read,
            "cacheWriteInputTokens": writes, "totalTokens": reply.totalTokens + cache.read + writes,
        ]
    }

    /// An AWS JSON error: `{"message": …}` with the exception's name in `x-amzn-ErrorType`.
    static func error(_ status: HTTPResponse.Status, type: String, message: String) -> Response {
        FakeJSON.response(["message": message], status: status, headers: [HTTPField.Name("x-amzn-ErrorType")!: type])
    }

    /// The access key id of `Authorization: AWS4-HMAC-SHA256 Credential=<id>/…`, nil for any other scheme.
    private static func signedAccessKeyId(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.hasPrefix(AWSSigV4Signer.algorithm + " "),
            let range = value.range(of: "Credential=")
        else { return nil }
        return String(value[range.upperBound...].prefix { $0 != "/" && $0 != "," })
    }
}
