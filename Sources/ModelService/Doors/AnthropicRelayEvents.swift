import Foundation
import NIOCore
import ModelServiceCore

/// An Anthropic stream passed through event by event: each event's data is the upstream's bytes,
/// except `message.model` in `message_start`, which names the registry model. Usage is read from
/// `message_start` and `message_delta`; an upstream `error` event is relayed and remembered.
package struct AnthropicRelayEvents: Sendable {
    package let model: String
    private var parser = ServerSentEventParser()
    package private(set) var usage = AnthropicUsage()
    package private(set) var sawUsage = false
    package private(set) var stopped = false
    /// The upstream's own `error` event, already relayed to the client.
    package private(set) var upstreamError: ProviderError?

    package init(model: String) {
        self.model = model
    }

    /// The frames to send for these upstream bytes.
    /// Throws when the upstream sends a line or event over the parser's limit.
    package mutating func push(_ bytes: ByteBuffer) throws -> [ByteBuffer] {
        handle(try parser.push(bytes))
    }

    /// The frames still owed at the end of the upstream body.
    package mutating func finish() -> [ByteBuffer] {
        handle(parser.finish())
    }

    private mutating func handle(_ events: [ServerSentEvent]) -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        for event in events {
            let peek = try? ProviderJSON.decode(Peek.self, from: event.data)
            let type = peek?.type ?? event.event ?? "message"
            var data = Array(event.data.readableBytesView)
            switch type {
            case "message_start":
                if let counts = peek?.message?.usage { record(counts) }
                if let patched = Self.patchMessageModel(data, model: model) { data = patched }
            case "message_delta":
                if let counts = peek?.usage { record(counts) }
            case "message_stop":
                stopped = true
            case "error":
                upstreamError = ProviderError.fromStreamError(type: peek?.error?.type, message: peek?.error?.message, apiKey: nil)
            default:
                break
            }
            frames.append(Self.frame(event: event.event ?? type, data: data))
        }
        return frames
    }

    /// `message.model` set to the registry name, every other byte as the upstream sent it.
    package static func patchMessageModel(_ data: [UInt8], model: String) -> [UInt8]? {
        guard var event = JSONObjectEditor(data), let raw = event.rawValue("message"), var message = JSONObjectEditor(Array(raw)),
            message.contains("model")
        else { return nil }
        message.set("model", model)
        event.set("message", json: message.result().readableBytesView)
        return Array(event.result().readableBytesView)
    }

    private mutating func record(_ counts: AnthropicUsage) {
        sawUsage = true
        usage.merge(counts)
    }

    /// The call's usage for the record, nil when the upstream sent none.
    package var recordedUsage: Usage? { sawUsage ? usage.usage : nil }

    /// `event:` then one `data:` line per line of the payload (Anthropic sends one).
    package static func frame(event: String, data: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + event.utf8.count + 16)
        buffer.writeString("event: \(event)\n")
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            buffer.writeString("data: ")
            buffer.writeBytes(line)
            buffer.writeString("\n")
        }
        buffer.writeString("\n")
        return buffer
    }

    private struct Peek: Decodable {
        package var type: String?
        package var message: Message?
        package var usage: AnthropicUsage?
        package var error: ErrorBody?

        package struct Message: Decodable {
            package var usage: AnthropicUsage?
        }

        package struct ErrorBody: Decodable {
            package var type: String?
            package var message: String?
        }
    }
}
