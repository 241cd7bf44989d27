import Foundation
import Hummingbird
import ServiceLifecycle

/// OpenAI's Responses API (`POST /responses`) as OpenAI and Azure (`/openai/responses?api-version=`) serve it:
/// the echo reply as one `message` output item, streamed as `response.*` SSE events.
enum FakeResponsesRoutes {
    static func add(to router: Router<FakeRequestContext>, pipeline: FakeChatPipeline) {
        let openAI = OpenAIFakeRoutes(provider: .openai)
        router.post("openai/v1/responses") { request, context in
            try await pipeline.json(request, dialect: openAI) { json in try await answer(json, context: context) }
        }
        let azure = OpenAIFakeRoutes(provider: .azure)
        router.post("azure/openai/responses") { request, context in
            guard request.uri.queryParameters["api-version"] != nil else { return azure.errorResponse(.notFound("Resource not found")) }
            return try await pipeline.json(request, dialect: azure) { json in try await answer(json, context: context) }
        }
    }

    private static func answer(_ json: [String: Any], context: FakeRequestContext) async throws -> Response {
        guard let model = json["model"] as? String, !model.isEmpty else { throw FakeFailure.badRequest("Missing required parameter: 'model'.") }
        let text = inputText(json["input"])
        guard !text.isEmpty else { throw FakeFailure.badRequest("Missing required parameter: 'input'.") }
        let behavior = FakeBehavior(model: model, hasTools: false)
        if let delay = behavior.delay { try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) } }
        switch behavior.outcome {
        case .badRequest: throw FakeFailure.badRequest("Invalid request for model \(model).")
        case .serverError: throw FakeFailure.serverError
        case .rateLimited: throw FakeFailure.rateLimited(model: model)
        default: break
        }
        let reply = "Echo from openai: \(text)"
        let inputTokens = FakeText.wordCount(text) + FakeText.wordCount(json["instructions"] as? String ?? "")
        let outputTokens = FakeText.wordCount(reply)
        let created = Int(Date().timeIntervalSince1970)
        func response(status: String, withOutput: Bool) -> [String: Any] {
            let output: [Any] = withOutput ? [messageItem(reply)] : []
            var object: [String: Any] = ["id": "resp_fake", "object": "response", "created_at": created, "status": status, "model": model]
            object["output"] = output
            object["parallel_tool_calls"] = true
            object["tools"] = [Any]()
            if withOutput {
                let hostile = FakeHostile.usageCount(model: model)
                var usage: [String: Any] = [
                    "input_tokens": hostile ?? inputTokens, "output_tokens": hostile ?? outputTokens, "total_tokens": hostile ?? inputTokens + outputTokens,
                ]
                usage["input_tokens_details"] = ["cached_tokens": 0]
                usage["output_tokens_details"] = ["reasoning_tokens": 0]
                object["usage"] = usage
            }
            return object
        }
        guard json["stream"] as? Bool == true else { return FakeJSON.response(response(status: "completed", withOutput: true)) }
        var events: [ByteBuffer] = []
        var sequence = 0
        func event(_ type: String, _ payload: [String: Any]) {
            var object = payload
            object["type"] = type
            object["sequence_number"] = sequence
            sequence += 1
            events.append(FakeJSON.sseEvent(object, event: type))
        }
        event("response.created", ["response": response(status: "in_progress", withOutput: false)])
        event("response.output_item.added", ["output_index": 0, "item": ["type": "message", "id": "msg_fake", "status": "in_progress", "role": "assistant", "content": [Any]()]])
        let emptyPart: [String: Any] = ["type": "output_text", "text": "", "annotations": [Any]()]
        event("response.content_part.added", ["item_id": "msg_fake", "output_index": 0, "content_index": 0, "part": emptyPart])
        for piece in FakeText.wordPieces(reply) {
            event("response.output_text.delta", ["item_id": "msg_fake", "output_index": 0, "content_index": 0, "delta": String(piece), "logprobs": [Any]()])
        }
        event("response.output_text.done", ["item_id": "msg_fake", "output_index": 0, "content_index": 0, "text": reply, "logprobs": [Any]()])
        let part: [String: Any] = ["type": "output_text", "text": reply, "annotations": [Any]()]
        event("response.content_part.done", ["item_id": "msg_fake", "output_index": 0, "content_index": 0, "part": part])
        event("response.output_item.done", ["output_index": 0, "item": messageItem(reply)])
        event("response.completed", ["response": response(status: "completed", withOutput: true)])
        let frames = events
        let body = ResponseBody { writer in
            for (index, chunk) in frames.enumerated() {
                if index > 0, let delay = behavior.chunkDelay { try await Task.sleep(for: delay) }
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    private static func messageItem(_ text: String) -> [String: Any] {
        [
            "type": "message", "id": "msg_fake", "status": "completed", "role": "assistant",
            "content": [["type": "output_text", "text": text, "annotations": [Any](), "logprobs": [Any]()]],
        ]
    }

    /// `input` as a string, or the text of its message items.
    private static func inputText(_ input: Any?) -> String {
        if let text = input as? String { return text }
        guard let items = input as? [[String: Any]] else { return "" }
        return items.compactMap { item -> String? in
            if let text = item["content"] as? String { return text }
            let parts = item["content"] as? [[String: Any]] ?? []
            return parts.compactMap { $0["text"] as? String }.joined(separator: " ")
        }.joined(separator: " ")
    }
}
