import AsyncHTTPClient
import NIOCore

/// Anthropic's Messages API (`POST {base}/v1/messages`, `x-api-key`): canonical chat translated to it, and
/// an Anthropic client's own JSON relayed with its `anthropic-version` and `anthropic-beta`.
public struct AnthropicAdapter: ProviderAdapter {
    /// The API version this translation is written against, and the one sent when a client names none.
    public static let apiVersion = "2023-06-01"

    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat, .messages]

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        let body = try ProviderJSON.encodeBuffer(AnthropicTranslator.body(for: request, target: target, streaming: false))
        let answer = try await client.send(.jsonPost(url: target.url("/v1/messages"), headers: headers(for: target), body: body), apiKey: target.apiKey)
        let message = try ProviderJSON.decodeUpstream(AnthropicMessage.self, from: answer)
        return AnthropicTranslator.response(from: message)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        let body = try ProviderJSON.encodeBuffer(AnthropicTranslator.body(for: request, target: target, streaming: true))
        let response = try await client.open(.jsonPost(url: target.url("/v1/messages"), headers: headers(for: target), body: body), apiKey: target.apiKey)
        let decoder = AnthropicStreamDecoder(model: target.upstreamModel, forwardUsage: request.wantsStreamUsage, apiKey: target.apiKey, maxLineBytes: client.maxLineBytes)
        return ChatChunkStream(body: response.body, decoder: decoder, apiKey: target.apiKey)
    }

    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        await validateByGet(url: target.url("/v1/models"), headers: headers(for: target), apiKey: target.apiKey, client: client)
    }

    package func messages(_ body: ByteBuffer, path: String, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> ByteBuffer
    {
        let request = HTTPClientRequest.jsonPost(url: target.url(path), headers: self.headers(for: target, client: headers), body: try target.relayedBody(body))
        return try await client.send(request, apiKey: target.apiKey)
    }

    package func openMessages(_ body: ByteBuffer, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> RawEventStream
    {
        let request = HTTPClientRequest.jsonPost(
            url: target.url("/v1/messages"), headers: self.headers(for: target, client: headers), body: try target.relayedBody(body))
        return RawEventStream(body: try await client.open(request, apiKey: target.apiKey).body, apiKey: target.apiKey)
    }

    /// `x-api-key` and `anthropic-version` (the client's, else the pinned one), and the client's `anthropic-beta`.
    package func headers(for target: UpstreamTarget, client: AnthropicClientHeaders = AnthropicClientHeaders()) -> [(String, String)] {
        var fields = [("x-api-key", target.keyValue), ("anthropic-version", client.version ?? Self.apiVersion)]
        if let beta = client.beta { fields.append(("anthropic-beta", beta)) }
        return fields
    }
}

/// The request headers an Anthropic client sends that must reach Anthropic.
package struct AnthropicClientHeaders: Sendable {
    package var version: String?
    package var beta: String?

    package init(version: String? = nil, beta: String? = nil) {
        self.version = version
        self.beta = beta
    }
}

/// Translates Anthropic stream events (`message_start` … `message_stop`) into OpenAI chunks.
package struct AnthropicStreamDecoder: ChatStreamDecoder {
    private var parser: ServerSentEventParser
    private var builder: ChunkBuilder
    private let forwardUsage: Bool
    private let apiKey: Secret?
    private var counts = AnthropicUsage()
    private var sawUsage = false
    private var stopped = false
    /// Anthropic content-block index → OpenAI tool-call index.
    private var toolIndexByBlock: [Int: Int] = [:]

    package var usage: Usage? { sawUsage ? counts.usage : nil }

    package init(model: String, forwardUsage: Bool, apiKey: Secret?, maxLineBytes: Int = ServerSentEventParser.defaultMaxLineBytes) {
        self.builder = ChunkBuilder(model: model)
        self.forwardUsage = forwardUsage
        self.apiKey = apiKey
        self.parser = ServerSentEventParser(maxLineBytes: maxLineBytes)
    }

    package mutating func decode(_ bytes: ByteBuffer) throws -> [ChatCompletionChunk] {
        try handle(try parser.push(bytes))
    }

    package mutating func finish() throws -> [ChatCompletionChunk] {
        let chunks = try handle(parser.finish())
        guard stopped else { throw ProviderError.invalidResponse("the stream ended before message_stop") }
        return chunks
    }

    private mutating func handle(_ events: [ServerSentEvent]) throws -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        for sse in events where !stopped {
            let event = try ProviderJSON.decodeUpstream(Event.self, from: sse.data)
            switch event.type {
            case "message_start":
                if let id = event.message?.id { builder.id = id }
                if let model = event.message?.model { builder.model = model }
                record(event.message?.usage)
                chunks.append(builder.roleChunk())
            case "content_block_start":
                guard let block = event.contentBlock, let index = event.index else { continue }
                if block.type == "tool_use" {
                    let toolIndex = toolIndexByBlock.count
                    toolIndexByBlock[index] = toolIndex
                    let call = ChatCompletionChunk.ToolCallDelta(index: toolIndex, id: block.id ?? "call_\(toolIndex)", name: block.name ?? "", arguments: "")
                    chunks.append(builder.delta(.init(toolCalls: [call])))
                } else if let text = block.text, !text.isEmpty {
                    chunks.append(builder.text(text))
                }
            case "content_block_delta":
                guard let delta = event.delta else { continue }
                if delta.type == "text_delta", let text = delta.text {
                    chunks.append(builder.text(text))
                } else if delta.type == "input_json_delta", let json = delta.partialJSON, let index = event.index,
                    let toolIndex = toolIndexByBlock[index]
                {
                    chunks.append(builder.delta(.init(toolCalls: [.init(index: toolIndex, arguments: json)])))
                }
            case "message_delta":
                record(event.usage)
                if let reason = AnthropicTranslator.finishReason(event.delta?.stopReason) {
                    chunks.append(builder.finish(reason))
                }
            case "message_stop":
                stopped = true
                if forwardUsage, let usage { chunks.append(builder.usageChunk(usage)) }
            case "error":
                throw ProviderError.fromStreamError(type: event.error?.type, message: event.error?.message, apiKey: apiKey)
            default:
                continue  // ping, content_block_stop, and event types added later
            }
        }
        return chunks
    }

    private mutating func record(_ usage: AnthropicUsage?) {
        guard let usage else { return }
        sawUsage = true
        counts.merge(usage)
    }

    private struct Event: Decodable {
        package var type: String
        package var index: Int?
        package var message: AnthropicMessage?
        package var contentBlock: AnthropicMessage.Block?
        package var delta: Delta?
        package var usage: AnthropicUsage?
        package var error: ErrorBody?

        package struct Delta: Decodable {
            package var type: String?
            package var text: String?
            package var partialJSON: String?
            package var stopReason: String?

            package enum CodingKeys: String, CodingKey {
                case type, text
                case partialJSON = "partial_json"
                case stopReason = "stop_reason"
            }
        }

        package struct ErrorBody: Decodable {
            package var type: String?
            package var message: String?
        }

        package enum CodingKeys: String, CodingKey {
            case type, index, message, delta, usage, error
            case contentBlock = "content_block"
        }
    }
}
