import Foundation
import NIOCore

/// Translates ConverseStream's `application/vnd.amazon.eventstream` frames (`messageStart`, `contentBlockStart`,
/// `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`) into OpenAI chunks.
///
/// A frame that fails its CRC or cannot be framed, an `exception` message (throttling, validation, a model error)
/// or a stream that ends early ends the call with a ``ProviderError`` naming what broke; frame bytes never reach
/// the message. `metadata` (the usage) comes after `messageStop`, so the usage chunk is written at the end.
package struct BedrockStreamDecoder: ChatStreamDecoder {
    private var frames: AWSEventStreamDecoder
    private var builder: ChunkBuilder
    private let forwardUsage: Bool
    private let apiKey: Secret?
    private var started = false
    private var stopped = false
    /// Bedrock content-block index → OpenAI tool-call index.
    private var toolIndexByBlock: [Int: Int] = [:]
    package private(set) var usage: Usage?

    package init(model: String, forwardUsage: Bool, apiKey: Secret?, maximumFrameBytes: Int = 1 << 20) {
        self.frames = AWSEventStreamDecoder(maximumMessageLength: maximumFrameBytes)
        self.builder = ChunkBuilder(model: model)
        self.forwardUsage = forwardUsage
        self.apiKey = apiKey
    }

    package mutating func decode(_ bytes: ByteBuffer) throws -> [ChatCompletionChunk] {
        frames.append(bytes)
        var chunks: [ChatCompletionChunk] = []
        while let message = try nextMessage() {
            try handle(message, into: &chunks)
        }
        return chunks
    }

    package mutating func finish() throws -> [ChatCompletionChunk] {
        guard frames.bufferedByteCount == 0 else {
            throw ProviderError.invalidResponse("the Bedrock event stream ended in the middle of a frame")
        }
        guard stopped else { throw ProviderError.invalidResponse("the Bedrock stream ended before messageStop") }
        if forwardUsage, let usage { return [builder.usageChunk(usage)] }
        return []
    }

    private mutating func nextMessage() throws(ProviderError) -> AWSEventStreamMessage? {
        do {
            return try frames.next()
        } catch {
            // The description names the check that failed (CRC, length, header) and the CRC values, never payload bytes.
            throw .invalidResponse("the Bedrock event stream is corrupt (\(error.description))")
        }
    }

    private mutating func handle(_ message: AWSEventStreamMessage, into chunks: inout [ChatCompletionChunk]) throws {
        switch message.messageType {
        case "event":
            break
        case "exception":
            throw streamError(name: message.exceptionType ?? "exception", payload: message.payload)
        case "error":
            throw streamError(name: message.errorCode ?? "error", message: message.errorMessage)
        default:
            throw ProviderError.invalidResponse("the Bedrock event stream sent a message of type '\(message.messageType ?? "none")'")
        }
        let event: Event
        do {
            event = try JSONDecoder().decode(Event.self, from: Data(message.payload))
        } catch {
            throw ProviderError.invalidResponse("cannot decode Bedrock's \(message.eventType ?? "unnamed") event: \(ProviderJSON.describe(error))")
        }
        guard !stopped || message.eventType == "metadata" else { return }
        switch message.eventType {
        case "messageStart":
            start(&chunks)
        case "contentBlockStart":
            start(&chunks)
            guard let use = event.start?.toolUse, let block = event.contentBlockIndex else { return }
            let toolIndex = toolIndexByBlock.count
            toolIndexByBlock[block] = toolIndex
            let call = ChatCompletionChunk.ToolCallDelta(index: toolIndex, id: use.toolUseId ?? "call_\(toolIndex)", name: use.name ?? "", arguments: "")
            chunks.append(builder.delta(.init(toolCalls: [call])))
        case "contentBlockDelta":
            start(&chunks)
            guard let delta = event.delta else { return }
            if let text = delta.text, !text.isEmpty {
                chunks.append(builder.text(text))
            } else if let input = delta.toolUse?.input, let block = event.contentBlockIndex, let toolIndex = toolIndexByBlock[block] {
                chunks.append(builder.delta(.init(toolCalls: [.init(index: toolIndex, arguments: input)])))
            } else if let thought = delta.reasoningContent?.text, !thought.isEmpty {
                chunks.append(builder.delta(.init(reasoningContent: thought)))
            }
        case "messageStop":
            start(&chunks)
            stopped = true
            chunks.append(builder.finish(BedrockTranslator.finishReason(event.stopReason) ?? (toolIndexByBlock.isEmpty ? "stop" : "tool_calls")))
        case "metadata":
            if let counts = event.usage { usage = counts.usage }
        default:
            return  // contentBlockStop, and event types added later
        }
    }

    /// OpenAI's first delta names the role; Bedrock's `messageStart` may be missing, so any event can open.
    private mutating func start(_ chunks: inout [ChatCompletionChunk]) {
        guard !started else { return }
        started = true
        chunks.append(builder.roleChunk())
    }

    /// An exception the stream reported after its 200: the upstream failed mid-answer, whatever the exception.
    private func streamError(name: String, payload: [UInt8]) -> ProviderError {
        let text = (try? JSONDecoder().decode(ExceptionBody.self, from: Data(payload)))?.text
        return streamError(name: name, message: text)
    }

    private func streamError(name: String, message: String?) -> ProviderError {
        let detail = message.map { ": \(ProviderError.scrub($0, apiKey: apiKey))" } ?? ""
        return .upstreamFailed(status: 502, message: "Bedrock ended the stream with \(ProviderError.scrub(name, apiKey: apiKey))\(detail)")
    }

    /// AWS writes `message`, and on some exceptions `Message`.
    private struct ExceptionBody: Decodable {
        var message: String?
        var capitalized: String?
        var text: String? { message ?? capitalized }

        enum CodingKeys: String, CodingKey {
            case message
            case capitalized = "Message"
        }
    }

    /// Every event's payload fields, all optional: each event type sets a few.
    private struct Event: Decodable {
        var contentBlockIndex: Int?
        var start: Start?
        var delta: Delta?
        var stopReason: String?
        var usage: BedrockUsage?

        struct Start: Decodable {
            var toolUse: ToolUse?
        }

        struct ToolUse: Decodable {
            var toolUseId: String?
            var name: String?
        }

        struct Delta: Decodable {
            var text: String?
            var toolUse: ToolInput?
            var reasoningContent: Reasoning?
        }

        struct ToolInput: Decodable {
            var input: String?
        }

        struct Reasoning: Decodable {
            var text: String?
        }
    }
}
