import Foundation
import Hummingbird

/// OpenAI chat completions as served by OpenAI, xAI, DeepSeek, any OpenAI-compatible server and (under its own paths and key header) Azure OpenAI.
struct OpenAIFakeRoutes: FakeDialect {
    let provider: FakeProvider

    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        for provider in [FakeProvider.openai, .xai, .deepseek] {
            let dialect = OpenAIFakeRoutes(provider: provider)
            let group = router.group("\(provider.basePath)")
            group.post("chat/completions") { request, context in
                try await pipeline.chat(request, context: context, dialect: dialect)
            }
            group.get("models") { request, _ in
                try await pipeline.authorized(request, dialect: dialect) { dialect.modelList() }
            }
        }
        // Every OpenAI-compatible server name under one prefix; the recorded path tells them apart.
        let compatible = OpenAIFakeRoutes(provider: .openaiCompatible)
        let servers = router.group("openai-compatible/:server/v1")
        servers.post("chat/completions") { request, context in
            try await pipeline.chat(request, context: context, dialect: compatible)
        }
        servers.get("models") { request, _ in
            try await pipeline.authorized(request, dialect: compatible) { compatible.modelList() }
        }
        let azure = OpenAIFakeRoutes(provider: .azure)
        router.post("azure/openai/deployments/:deployment/chat/completions") { request, context in
            try await pipeline.chat(request, context: context, dialect: azure)
        }
    }

    private var isAzure: Bool { provider == .azure }

    /// o1, o3, o4-mini, gpt-5…: the ids OpenAI serves as reasoning models.
    static func isReasoningModel(_ model: String) -> Bool {
        let id = model.lowercased()
        if id.hasPrefix("gpt-5") { return true }
        guard id.first == "o", let second = id.dropFirst().first else { return false }
        return second.isNumber
    }

    func apiKey(in request: Request) -> String? {
        if isAzure, let key = request.header("api-key") { return key }
        return request.bearerToken
    }

    func precheck(_ request: Request) throws(FakeFailure) {
        // Azure answers 404 to a deployment URL without `api-version`.
        if isAzure, request.uri.queryParameters["api-version"] == nil { throw .notFound("Resource not found") }
    }

    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat {
        let model: String
        if isAzure {
            model = context.parameters.get("deployment") ?? ""
        } else {
            guard let name = json["model"] as? String, !name.isEmpty else { throw .badRequest("you must provide a model parameter") }
            model = name
        }
        guard let messages = json["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw .badRequest("'messages' is a required property")
        }
        if Self.isReasoningModel(model) {
            // As OpenAI answers for its o-series and GPT-5 reasoning models.
            if json["max_tokens"] != nil {
                throw .badRequest("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")
            }
            if let temperature = json["temperature"] as? Double, temperature != 1 {
                throw .badRequest(
                    "Unsupported value: 'temperature' does not support \(temperature) with this model. Only the default (1) value is supported.")
            }
        }
        var lastUser = ""
        var words = 0
        for message in messages {
            let text = FakeText.text(ofContent: message["content"])
            words += FakeText.wordCount(text)
            if message["role"] as? String == "user" { lastUser = text }
        }
        let tools = (json["tools"] as? [Any])?.isEmpty == false || (json["functions"] as? [Any])?.isEmpty == false
        let options = json["stream_options"] as? [String: Any]
        return FakeChat(
            model: model,
            lastUserText: lastUser,
            promptTokens: words,
            hasTools: tools,
            stream: json["stream"] as? Bool ?? false,
            includeUsage: options?["include_usage"] as? Bool ?? false
        )
    }

    func errorResponse(_ failure: FakeFailure) -> Response {
        let (status, type, code, message): (HTTPResponse.Status, String, Any, String) =
            switch failure {
            case .missingKey:
                (.unauthorized, "invalid_request_error", NSNull(), "You didn't provide an API key. Provide it in an Authorization header (Bearer).")
            case .invalidKey(let key):
                (.unauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: \(key).")
            case .forbidden: (.forbidden, "invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported.")
            case .badRequest(let message): (.badRequest, "invalid_request_error", "invalid_request", message)
            case .notFound(let message): (.notFound, "invalid_request_error", "404", message)
            case .serverError: (.internalServerError, "server_error", "server_error", "The server had an error while processing your request.")
            case .rateLimited: (.tooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached. Please try again in 7s.")
            }
        return FakeJSON.response(["error": ["message": message, "type": type, "param": NSNull(), "code": code]], status: status)
    }

    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response {
        let message: [String: Any]
        let finish: String
        switch reply.content {
        case .text(let text):
            message = ["role": "assistant", "content": text]
            finish = "stop"
        case .toolCall:
            message = ["role": "assistant", "content": NSNull(), "tool_calls": [Self.toolCall(arguments: FakeReply.toolArguments, index: nil)]]
            finish = "tool_calls"
        }
        return FakeJSON.response([
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": Self.now,
            "model": chat.model,
            "choices": [["index": 0, "message": message, "finish_reason": finish]],
            "usage": Self.usage(reply),
        ])
    }

    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer] {
        let created = Self.now
        func chunk(_ delta: [String: Any], finish: String?) -> ByteBuffer {
            FakeJSON.sseEvent([
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": chat.model,
                "choices": [["index": 0, "delta": delta, "finish_reason": finish.map { $0 as Any } ?? NSNull()]],
            ])
        }
        var chunks: [ByteBuffer] = []
        switch reply.content {
        case .text(let text):
            for (index, piece) in FakeText.wordPieces(text).enumerated() {
                chunks.append(chunk(index == 0 ? ["role": "assistant", "content": String(piece)] : ["content": String(piece)], finish: nil))
            }
            chunks.append(chunk([:], finish: "stop"))
        case .toolCall:
            let first = Self.toolCall(arguments: "", index: 0)
            chunks.append(chunk(["role": "assistant", "content": NSNull(), "tool_calls": [first]], finish: nil))
            for piece in FakeReply.toolArgumentPieces {
                chunks.append(chunk(["tool_calls": [["index": 0, "function": ["arguments": piece]]]], finish: nil))
            }
            chunks.append(chunk([:], finish: "tool_calls"))
        }
        if chat.includeUsage {
            chunks.append(
                FakeJSON.sseEvent([
                    "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": chat.model,
                    "choices": [Any](), "usage": Self.usage(reply),
                ])
            )
        }
        chunks.append(ByteBuffer(string: "data: [DONE]\n\n"))
        return chunks
    }

    func modelList() -> Response {
        let data = FakeProvider.listedModels.map { ["id": $0, "object": "model", "created": 1_700_000_000, "owned_by": provider.rawValue] }
        return FakeJSON.response(["object": "list", "data": data])
    }

    private static var now: Int { Int(Date().timeIntervalSince1970) }

    private static func usage(_ reply: FakeReply) -> [String: Any] {
        if let cache = reply.cache {
            // OpenAI counts cached tokens in the prompt and names them in `prompt_tokens_details`.
            let prompt = reply.promptTokens + cache.read
            return [
                "prompt_tokens": prompt, "completion_tokens": reply.completionTokens, "total_tokens": prompt + reply.completionTokens,
                "prompt_tokens_details": ["cached_tokens": cache.read],
            ]
        }
        return ["prompt_tokens": reply.count(reply.promptTokens), "completion_tokens": reply.count(reply.completionTokens), "total_tokens": reply.count(reply.totalTokens)]
    }

    private static func toolCall(arguments: String, index: Int?) -> [String: Any] {
        var call: [String: Any] = ["id": "call_fake_1", "type": "function", "function": ["name": FakeReply.toolName, "arguments": arguments]]
        if let index { call["index"] = index }
        return call
    }
}
