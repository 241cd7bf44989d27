import Hummingbird
import ModelServiceCore

/// ConverseStream's frames as AWS documents them: each event an `application/vnd.amazon.eventstream` message with
/// `:event-type`, `:content-type: application/json` and `:message-type: event`; `messageStart`, the content blocks
/// (`contentBlockStart` for a tool call, `contentBlockDelta`, `contentBlockStop`), `messageStop`, then `metadata`.
enum BedrockFakeStream {
    static func frames(chat: FakeChat, reply: FakeReply) -> [ByteBuffer] {
        var frames: [[UInt8]] = [event("messageStart", ["role": "assistant"])]
        var block = 0
        if chat.model.contains("think") {
            frames.append(event("contentBlockDelta", ["contentBlockIndex": block, "delta": ["reasoningContent": ["text": BedrockFakeRoutes.thought]]]))
            frames.append(event("contentBlockStop", ["contentBlockIndex": block]))
            block += 1
        }
        switch reply.content {
        case .text(let text):
            for (index, piece) in FakeText.wordPieces(text).enumerated() {
                frames.append(event("contentBlockDelta", ["contentBlockIndex": block, "delta": ["text": String(piece)], "p": "abcdefghijkl"]))
                if index == 0, let broken = failure(model: chat.model) {
                    frames.append(broken)
                    if chat.model.contains("stream-exception") { return frames.map { ByteBuffer(bytes: $0) } }
                }
            }
        case .toolCall:
            let start = ["toolUse": ["toolUseId": BedrockFakeRoutes.toolUseId, "name": FakeReply.toolName]]
            frames.append(event("contentBlockStart", ["contentBlockIndex": block, "start": start]))
            for piece in FakeReply.toolArgumentPieces {
                frames.append(event("contentBlockDelta", ["contentBlockIndex": block, "delta": ["toolUse": ["input": piece]]]))
            }
        }
        frames.append(event("contentBlockStop", ["contentBlockIndex": block]))
        frames.append(event("messageStop", ["stopReason": BedrockFakeRoutes.stopReason(reply)]))
        frames.append(event("metadata", ["usage": BedrockFakeRoutes.usage(reply), "metrics": ["latencyMs": 12]]))
        return frames.map { ByteBuffer(bytes: $0) }
    }

    /// What a `corrupt-frame` model sends after its first text: a frame whose message CRC is wrong; a
    /// `stream-exception` model's exception message (after which AWS sends nothing more).
    private static func failure(model: String) -> [UInt8]? {
        if model.contains("corrupt-frame") {
            var frame = event("contentBlockDelta", ["contentBlockIndex": 0, "delta": ["text": " corrupted"]])
            if let last = frame.indices.last { frame[last] ^= 0xFF }
            return frame
        }
        if model.contains("stream-exception") {
            let payload = Array(FakeJSON.buffer(["message": "The model stopped unexpectedly (fake modelStreamErrorException)."]).readableBytesView)
            return (try? AWSEventStreamEncoder.exception(type: "modelStreamErrorException", jsonPayload: payload)) ?? []
        }
        return nil
    }

    private static func event(_ type: String, _ payload: [String: Any]) -> [UInt8] {
        let json = Array(FakeJSON.buffer(payload).readableBytesView)
        return (try? AWSEventStreamEncoder.event(type: type, jsonPayload: json)) ?? []
    }
}
