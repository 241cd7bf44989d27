import Foundation
import Hummingbird

/// Gemini `generateContent` / `streamGenerateContent`, whose model and method share one path segment (`{model}:method`).
struct GeminiFakeRoutes: FakeDialect {
    var provider: FakeProvider { .gemini }

    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        let dialect = GeminiFakeRoutes()
        let group = router.group("gemini/v1beta")
        // One capture for the whole `{model}:{method}` segment, split by hand so any model name and a `%3A` both work.
        group.post("models/:modelAction") { request, context in
            if let (model, method) = Self.modelAndMethod(context.parameters.get("modelAction") ?? ""), method == "batchEmbedContents" {
                return try await FakeEmbeddingRoutes.gemini(request, model: model, pipeline: pipeline)
            }
            return try await pipeline.chat(request, context: context, dialect: dialect)
        }
        group.get("models") { request, _ in
            try await pipeline.authorized(request, dialect: dialect) { dialect.modelList() }
        }
    }

    /// Splits `gemini-pro:generateContent` into model and method.
    static func modelAndMethod(_ segment: String) -> (model: String, method: String)? {
        let decoded = segment.removingPercentEncoding ?? segment
        guard let colon = decoded.lastIndex(of: ":") else { return nil }
        return (String(decoded[..<colon]), String(decoded[decoded.index(after: colon)...]))
    }

    func apiKey(in request: Request) -> String? {
        if let key = request.header("x-goog-api-key") { return key }
        return request.uri.queryParameters["key"].map(String.init)
    }

    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat {
        let segment = context.parameters.get("modelAction") ?? ""
        guard let (model, method) = Self.modelAndMethod(segment), method == "generateContent" || method == "streamGenerateContent" else {
            throw .notFound("Method not found: \(segment)")
        }
        guard let contents = json["contents"] as? [[String: Any]], !contents.isEmpty else {
            throw .badRequest("* GenerateContentRequest.contents: contents is not specified")
        }
        var words = FakeText.wordCount(Self.text(of: json["systemInstruction"] as? [String: Any]))
        var lastUser = ""
        for content in contents {
            let text = Self.text(of: content)
            words += FakeText.wordCount(text)
            if (content["role"] as? String ?? "user") == "user" { lastUser = text }
        }
        return FakeChat(
            model: model,
            lastUserText: lastUser,
            promptTokens: words,
            hasTools: (json["tools"] as? [Any])?.isEmpty == false,
            stream: method == "streamGenerateContent"
        )
    }

    func errorResponse(_ failure: FakeFailure) -> Response {
        let (status, name, message): (HTTPResponse.Status, String, String) =
            switch failure {
            // As Gemini answers: no key is a 403, an unknown key a 400 whose details say API_KEY_INVALID.
            case .missingKey: (.forbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use an API key.")
            case .invalidKey(let key): (.badRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key. (key: \(key))")
            case .forbidden: (.forbidden, "PERMISSION_DENIED", "Permission denied: Consumer has been suspended.")
            case .badRequest(let message): (.badRequest, "INVALID_ARGUMENT", message)
            case .notFound(let message): (.notFound, "NOT_FOUND", message)
            case .serverError: (.internalServerError, "INTERNAL", "An internal error has occurred.")
            case .rateLimited: (.tooManyRequests, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
            }
        var error: [String: Any] = ["code": Int(status.code), "message": message, "status": name]
        if case .invalidKey = failure {
            error["details"] = [["@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"]]
        }
        return FakeJSON.response(["error": error], status: status)
    }

    /// A model named with `think` answers with a thought part first, as Gemini does with `includeThoughts`.
    static var thought: [String: Any] { ["text": "Thinking it over.", "thought": true] }

    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response {
        let thoughts = chat.model.contains("think") ? [Self.thought] : []
        return FakeJSON.response(Self.chunk(parts: thoughts + Self.parts(reply), model: chat.model, final: reply))
    }

    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer] {
        var objects: [[String: Any]] = []
        if chat.model.contains("think") { objects.append(Self.chunk(parts: [Self.thought], model: chat.model, final: nil)) }
        switch reply.content {
        case .text(let text):
            let pieces = FakeText.wordPieces(text)
            for (index, piece) in pieces.enumerated() {
                objects.append(Self.chunk(parts: [["text": String(piece)]], model: chat.model, final: index == pieces.count - 1 ? reply : nil))
            }
        case .toolCall:
            objects.append(Self.chunk(parts: Self.parts(reply), model: chat.model, final: reply))
        }
        if isSSE(request) { return objects.map { FakeJSON.sseEvent($0) } }
        // Without `alt=sse` Gemini streams one JSON array, element by element.
        return objects.enumerated().map { index, object in
            var out = ByteBuffer(string: index == 0 ? "[" : ",\r\n")
            var json = FakeJSON.buffer(object)
            out.writeBuffer(&json)
            if index == objects.count - 1 { out.writeString("]") }
            return out
        }
    }

    func streamContentType(request: Request) -> String {
        isSSE(request) ? "text/event-stream" : "application/json"
    }

    func modelList() -> Response {
        let models = FakeProvider.listedModels.map {
            ["name": "models/\($0)", "displayName": $0, "supportedGenerationMethods": ["generateContent", "streamGenerateContent"]]
        }
        return FakeJSON.response(["models": models])
    }

    private func isSSE(_ request: Request) -> Bool {
        request.uri.queryParameters["alt"] == "sse"
    }

    private static func text(of content: [String: Any]?) -> String {
        guard let parts = content?["parts"] as? [[String: Any]] else { return "" }
        return parts.compactMap { $0["text"] as? String }.joined(separator: " ")
    }

    private static func parts(_ reply: FakeReply) -> [[String: Any]] {
        switch reply.content {
        case .text(let text): [["text": text]]
        case .toolCall: [["functionCall": ["name": FakeReply.toolName, "args": ["city": "Paris"]]]]
        }
    }

    /// One response object; the final one carries `finishReason` and `usageMetadata`.
    private static func chunk(parts: [[String: Any]], model: String, final reply: FakeReply?) -> [String: Any] {
        var candidate: [String: Any] = ["content": ["role": "model", "parts": parts], "index": 0]
        var object: [String: Any] = ["modelVersion": model]
        if let reply {
            candidate["finishReason"] = "STOP"
            if let cache = reply.cache {
                // Gemini counts cached content in the prompt and names it in `cachedContentTokenCount`.
                let prompt = reply.promptTokens + cache.read
                object["usageMetadata"] = [
                    "promptTokenCount": prompt, "candidatesTokenCount": reply.completionTokens,
                    "totalTokenCount": prompt + reply.completionTokens, "cachedContentTokenCount": cache.read,
                ]
            } else {
                object["usageMetadata"] = [
                    "promptTokenCount": reply.count(reply.promptTokens),
                    "candidatesTokenCount": reply.count(reply.completionTokens),
                    "totalTokenCount": reply.count(reply.totalTokens),
                ]
            }
        }
        object["candidates"] = [candidate]
        return object
    }
}
