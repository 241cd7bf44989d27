import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// ConverseStream frames → OpenAI chunks: text, tool calls, reasoning, usage after `messageStop`, and every way the
/// stream can break (exception message, bad CRC, a truncated frame, no `messageStop`).
@Suite struct BedrockStreamDecoderTests {
    static func event(_ type: String, _ json: String) throws -> [UInt8] {
        try AWSEventStreamEncoder.event(type: type, jsonPayload: Array(json.utf8))
    }

    /// Feeds `bytes` in pieces of `size`, as a network would.
    static func decode(_ bytes: [UInt8], size: Int = 5, forwardUsage: Bool = true) throws -> (chunks: [ChatCompletionChunk], usage: Usage?) {
        var decoder = BedrockStreamDecoder(model: "m", forwardUsage: forwardUsage, apiKey: Secret("ABSK-stream-key"))
        var chunks: [ChatCompletionChunk] = []
        for start in stride(from: 0, to: bytes.count, by: size) {
            chunks += try decoder.decode(ByteBuffer(bytes: bytes[start..<min(start + size, bytes.count)]))
        }
        chunks += try decoder.finish()
        return (chunks, decoder.usage)
    }

    static func textStream(usage: String = #"{"inputTokens":7,"outputTokens":3,"totalTokens":15,"cacheReadInputTokens":3,"cacheWriteInputTokens":2}"#) throws
        -> [UInt8]
    {
        try event("messageStart", #"{"role":"assistant"}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Mulling."}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Hello"},"p":"abc"}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":" there"}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":1}"#)
            + event("messageStop", #"{"stopReason":"max_tokens"}"#)
            + event("metadata", #"{"usage":\#(usage),"metrics":{"latencyMs":9}}"#)
    }

    @Test func textReasoningStopAndUsage() throws {
        let (chunks, usage) = try Self.decode(Self.textStream())
        #expect(chunks.first?.choices.first?.delta.role == .assistant)
        #expect(joinedContent(chunks) == "Hello there")
        #expect(chunks.flatMap(\.choices).compactMap(\.delta.reasoningContent) == ["Mulling."])
        #expect(finishReason(chunks) == "length")
        #expect(usage == Usage(promptTokens: 12, completionTokens: 3, cachedTokens: 3, cacheWriteTokens: 2))
        // The usage chunk comes last, after the finish (metadata follows messageStop).
        #expect(chunks.last?.usage == usage && chunks.last?.choices.isEmpty == true)
        #expect(try Self.decode(Self.textStream(), forwardUsage: false).chunks.allSatisfy { $0.usage == nil })
    }

    @Test func toolUseStreamsAsToolCallDeltas() throws {
        let bytes = try Self.event("messageStart", #"{"role":"assistant"}"#)
            + Self.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Checking."}}"#)
            + Self.event("contentBlockStart", #"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_9","name":"get_weather"}}}"#)
            + Self.event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}"#)
            + Self.event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Paris\"}"}}}"#)
            + Self.event("contentBlockStop", #"{"contentBlockIndex":1}"#)
            + Self.event("messageStop", #"{"stopReason":"tool_use"}"#)
            + Self.event("metadata", #"{"usage":{"inputTokens":5,"outputTokens":6,"totalTokens":11}}"#)
        let (chunks, usage) = try Self.decode(bytes, size: 3)
        let deltas = chunks.flatMap(\.choices).compactMap(\.delta.toolCalls).flatMap { $0 }
        #expect(deltas.first?.id == "tooluse_9" && deltas.first?.function?.name == "get_weather")
        #expect(deltas.allSatisfy { $0.index == 0 })
        #expect(deltas.compactMap(\.function?.arguments).joined() == #"{"city":"Paris"}"#)
        #expect(finishReason(chunks) == "tool_calls")
        #expect(usage?.promptTokens == 5 && usage?.cachedTokens == nil)
    }

    @Test func anExceptionMessageEndsTheCallNamingIt() throws {
        let bytes = try Self.event("messageStart", #"{"role":"assistant"}"#)
            + Self.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#)
            + AWSEventStreamEncoder.exception(type: "throttlingException", jsonPayload: Array(#"{"message":"Too many tokens, key ABSK-stream-key"}"#.utf8))
        let error = try #require(throws: ProviderError.self) { try Self.decode(bytes) }
        guard case .upstreamFailed(502, let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("throttlingException") && message.contains("Too many tokens"))
        #expect(!message.contains("ABSK-stream-key"))
        #expect(error.gatewayStatus == 502)
    }

    @Test func aCorruptFrameEndsTheCallWithoutItsBytes() throws {
        var broken = try Self.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"SECRET-PAYLOAD"}}"#)
        broken[broken.count - 1] ^= 0xFF
        let bytes = try Self.event("messageStart", #"{"role":"assistant"}"#) + broken + Self.event("messageStop", #"{"stopReason":"end_turn"}"#)
        let error = try #require(throws: ProviderError.self) { try Self.decode(bytes) }
        guard case .invalidResponse(let reason) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("corrupt") && reason.contains("CRC"))
        #expect(!reason.contains("SECRET-PAYLOAD"))
        #expect(error.gatewayStatus == 502)
        // A broken prelude (its length) fails as plainly.
        var prelude = try Self.event("messageStop", #"{"stopReason":"end_turn"}"#)
        prelude[1] ^= 0x40
        #expect(throws: ProviderError.self) { try Self.decode(prelude) }
    }

    @Test func aStreamThatStopsEarlyIsAnError() throws {
        let whole = try Self.textStream()
        // Cut inside a frame, then cut between frames before messageStop.
        #expect(throws: ProviderError.self) { try Self.decode(Array(whole.prefix(whole.count - 10))) }
        let unfinished = try Self.event("messageStart", #"{"role":"assistant"}"#) + Self.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#)
        let error = try #require(throws: ProviderError.self) { try Self.decode(unfinished) }
        #expect(error.message.contains("messageStop"))
    }

    @Test func anUnreadablePayloadIsAnError() throws {
        let bytes = try Self.event("contentBlockDelta", #"{"contentBlockIndex":1e400,"delta":{"text":"x"}}"#)
        let error = try #require(throws: ProviderError.self) { try Self.decode(bytes) }
        #expect(error.message.contains("contentBlockDelta"))
    }
}
