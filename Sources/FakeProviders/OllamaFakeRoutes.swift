import Foundation
import Hummingbird

/// Ollama's `/api/chat`: no key needed, streams newline-delimited JSON unless `stream` is false.
struct OllamaFakeRoutes: FakeDialect {
    var provider: FakeProvider { .ollama }
    var requiresKey: Bool { false }

    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        let dialect = OllamaFakeRoutes()
        let group = router.group("ollama/api")
        group.post("chat") { request, context in
            try await pipeline.chat(request, context: context, dialect: dialect)
        }
        group.get("tags") { request, _ in
            try await pipeline.authorized(request, dialect: dialect) { dialect.modelList() }
        }
    }

    /// A key is optional, but one starting with `bad` still gets a 401 so scrubbing tests work here too.
    func apiKey(in request: Request) -> String? {
        request.bearerToken
    }

    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat {
        guard let model = json["model"] as? String, !model.isEmpty else { throw .badRequest("model is required") }
        let messages = json["messages"] as? [[String: Any]] ?? []
        var words = 0
        var lastUser = ""
        for message in messages {
            let text = message["content"] as? String ?? ""
            words += FakeText.wordCount(text)
            if message["role"] as? String == "user" { lastUser = text }
        }
        return FakeChat(
            model: model,
            lastUserText: lastUser,
            promptTokens: words,
            hasTools: (json["tools"] as? [Any])?.isEmpty == false,
            stream: json["stream"] as? Bool ?? true
        )
    }

    func errorResponse(_ failure: FakeFailure) -> Response {
        let (status, message): (HTTPResponse.Status, String) =
            switch failure {
            case .missingKey: (.unauthorized, "unauthorized")
            case .invalidKey(let key): (.unauthorized, "unauthorized: invalid key \(key)")
            case .forbidden: (.forbidden, "forbidden")
            case .badRequest(let message): (.badRequest, message)
            case .notFound(let message): (.notFound, message)
            case .serverError: (.internalServerError, "internal server error")
            case .rateLimited: (.tooManyRequests, "too many requests")
            }
        return FakeJSON.response(["error": message], status: status)
    }

    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response {
        var object = Self.finalObject(chat: chat, reply: reply)
        object["message"] = Self.message(reply)
        return FakeJSON.response(object)
    }

    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer] {
        let created = Self.createdAt()
        var chunks: [ByteBuffer] = []
        switch reply.content {
        case .text(let text):
            for piece in FakeText.wordPieces(text) {
                let message: [String: Any] = ["role": "assistant", "content": String(piece)]
                chunks.append(FakeJSON.line(["model": chat.model, "created_at": created, "message": message, "done": false]))
            }
        case .toolCall:
            chunks.append(FakeJSON.line(["model": chat.model, "created_at": created, "message": Self.message(reply), "done": false]))
        }
        var final = Self.finalObject(chat: chat, reply: reply)
        final["message"] = ["role": "assistant", "content": ""]
        chunks.append(FakeJSON.line(final))
        return chunks
    }

    func streamContentType(request: Request) -> String { "application/x-ndjson" }

    func modelList() -> Response {
        let models = FakeProvider.listedModels.map { ["name": "\($0):latest", "model": "\($0):latest", "size": 0, "digest": "fake"] }
        return FakeJSON.response(["models": models])
    }

    private static func message(_ reply: FakeReply) -> [String: Any] {
        switch reply.content {
        case .text(let text):
            ["role": "assistant", "content": text]
        case .toolCall:
            ["role": "assistant", "content": "", "tool_calls": [["function": ["name": FakeReply.toolName, "arguments": ["city": "Paris"]]]]]
        }
    }

    private static func finalObject(chat: FakeChat, reply: FakeReply) -> [String: Any] {
        [
            "model": chat.model,
            "created_at": createdAt(),
            "done": true,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "prompt_eval_count": reply.count(reply.promptTokens),
            "eval_count": reply.count(reply.completionTokens),
        ]
    }

    /// A fixed timestamp: nothing reads it, and formatting a date per chunk would cost more than the rest of the answer.
    private static func createdAt() -> String {
        "2025-01-01T00:00:00Z"
    }
}
