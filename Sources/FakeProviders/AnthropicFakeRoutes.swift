import Foundation
import Hummingbird

/// Anthropic Messages API: `x-api-key`, a required `anthropic-version`, required `max_tokens`, named SSE events.
struct AnthropicFakeRoutes: FakeDialect {
    var provider: FakeProvider { .anthropic }

    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        let dialect = AnthropicFakeRoutes()
        let group = router.group("anthropic/v1")
        group.post("messages") { request, context in
            try await pipeline.chat(request, context: context, dialect: dialect)
        }
        group.get("models") { request, _ in
            try await pipeline.authorized(request, dialect: dialect) { dialect.modelList() }
        }
        group.post("messages/count_tokens") { request, _ in
            try await pipeline.json(request, dialect: dialect) { json in try dialect.countTokens(json) }
        }
    }

    /// `{"input_tokens": N}`, N the words of the system prompt and messages, as the chat answers count them.
    func countTokens(_ json: [String: Any]) throws(FakeFailure) -> Response {
        guard let model = json["model"] as? String, !model.isEmpty else { throw .badRequest("model: Field required") }
        guard let messages = json["messages"] as? [[String: Any]] else { throw .badRequest("messages: Field required") }
        if model.contains("error-500") { throw .serverError }
        var words = FakeText.wordCount(FakeText.text(ofContent: json["system"]))
        for message in messages { words += FakeText.wordCount(FakeText.text(ofContent: message["content"])) }
        return FakeJSON.response(["input_tokens": words])
    }

    func apiKey(in request: Request) -> String? {
        request.header("x-api-key") ?? request.bearerToken
    }

    func precheck(_ request: Request) throws(FakeFailure) {
        if request.header("anthropic-version") == nil { throw .badRequest("anthropic-version: header is required") }
    }

    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat {
        guard let model = json["model"] as? String, !model.isEmpty else { throw .badRequest("model: Field required") }
        guard json["max_tokens"] is Int else { throw .badRequest("max_tokens: Field required") }
        guard let messages = json["messages"] as? [[String: Any]], !messages.isEmpty else { throw .badRequest("messages: Field required") }
        var words = FakeText.wordCount(FakeText.text(ofContent: json["system"]))
        var lastUser = ""
        for message in messages {
            let text = FakeText.text(ofContent: message["content"])
            words += FakeText.wordCount(text)
            if message["role"] as? String == "user" { lastUser = text }
        }
        return FakeChat(
            model: model,
            lastUserText: lastUser,
            promptTokens: words,
            hasTools: (json["tools"] as? [Any])?.isEmpty == false,
            stream: json["stream"] as? Bool ?? false
        )
    }

    func errorResponse(_ failure: FakeFailure) -> Response {
        let (status, type, message): (HTTPResponse.Status, String, String) =
            switch failure {
            case .missingKey: (.unauthorized, "authentication_error", "x-api-key header is required")
            case .invalidKey(let key): (.unauthorized, "authentication_error", "invalid x-api-key: \(key)")
            case .forbidden: (.forbidden, "permission_error", "Your API key does not have permission to use the specified resource.")
            case .badRequest(let message): (.badRequest, "invalid_request_error", message)
            case .notFound(let message): (.notFound, "not_found_error", message)
            case .serverError: (.internalServerError, "api_error", "Internal server error")
            case .rateLimited: (.tooManyRequests, "rate_limit_error", "Number of requests has exceeded your rate limit.")
            }
        return FakeJSON.response(["type": "error", "error": ["type": type, "message": message]], status: status)
    }

    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response {
        let content: [String: Any]
        let stop: String
        switch reply.content {
        case .text(let text):
            content = ["type": "text", "text": text]
            stop = "end_turn"
        case .toolCall:
            content = ["type": "tool_use", "id": "toolu_fake_1", "name": FakeReply.toolName, "input": ["city": "Paris"]]
            stop = "tool_use"
        }
        return FakeJSON.response([
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": chat.model,
            "content": [content],
            "stop_reason": stop,
            "stop_sequence": NSNull(),
            "usage": reply.cache?.anthropicUsage(input: reply.promptTokens, output: reply.completionTokens)
                ?? ["input_tokens": reply.count(reply.promptTokens), "output_tokens": reply.count(reply.completionTokens)],
        ])
    }

    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer] {
        func event(_ name: String, _ fields: [String: Any]) -> ByteBuffer {
            var object = fields
            object["type"] = name
            return FakeJSON.sseEvent(object, event: name)
        }
        let message: [String: Any] = [
            "id": "msg_fake", "type": "message", "role": "assistant", "model": chat.model, "content": [Any](),
            "stop_reason": NSNull(), "stop_sequence": NSNull(),
            "usage": reply.cache?.anthropicUsage(input: reply.promptTokens, output: 1)
                ?? ["input_tokens": reply.count(reply.promptTokens), "output_tokens": reply.count(1)],
        ]
        var chunks = [event("message_start", ["message": message])]
        let stop: String
        switch reply.content {
        case .text(let text):
            chunks.append(event("content_block_start", ["index": 0, "content_block": ["type": "text", "text": ""]]))
            chunks.append(event("ping", [:]))
            for piece in FakeText.wordPieces(text) {
                chunks.append(event("content_block_delta", ["index": 0, "delta": ["type": "text_delta", "text": String(piece)]]))
            }
            stop = "end_turn"
        case .toolCall:
            let block: [String: Any] = ["type": "tool_use", "id": "toolu_fake_1", "name": FakeReply.toolName, "input": [String: Any]()]
            chunks.append(event("content_block_start", ["index": 0, "content_block": block]))
            chunks.append(event("ping", [:]))
            for piece in FakeReply.toolArgumentPieces {
                chunks.append(event("content_block_delta", ["index": 0, "delta": ["type": "input_json_delta", "partial_json": piece]]))
            }
            stop = "tool_use"
        }
        chunks.append(event("content_block_stop", ["index": 0]))
        chunks.append(
            event("message_delta", ["delta": ["stop_reason": stop, "stop_sequence": NSNull()], "usage": ["output_tokens": reply.count(reply.completionTokens)]])
        )
        chunks.append(event("message_stop", [:]))
        return chunks
    }

    func modelList() -> Response {
        let data = FakeProvider.listedModels.map {
            ["type": "model", "id": $0, "display_name": $0, "created_at": "2025-01-01T00:00:00Z"]
        }
        let names = FakeProvider.listedModels
        return FakeJSON.response(["data": data, "has_more": false, "first_id": names.first ?? "", "last_id": names.last ?? ""])
    }
}
