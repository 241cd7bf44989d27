import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The relay's byte-level reads (performance round two): what they take from a body must equal what
/// a full decode would, and anything they cannot read falls back to the decoder or a 400.
@Suite struct RelayScanTests {
    @Test func stringsAreQuotedAndReadBackExactly() throws {
        for text in ["plain", "quote \" and backslash \\", "tab\tnewline\nreturn\r", "nul \u{0}\u{1f} end", "ünïcödé ✓ 🚀"] {
            let quoted = JSONStringBytes.quoted(text)
            #expect(try JSONDecoder().decode(String.self, from: Data(quoted)) == text)
            #expect(JSONStringBytes.unquoted(ArraySlice(quoted)) == text)
        }
        #expect(JSONStringBytes.unquoted(ArraySlice(#""a\u0041b""#.utf8)) == "aAb")
        #expect(JSONStringBytes.unquoted(ArraySlice(#"nope"#.utf8)) == nil)
    }

    @Test func membersWithEscapedNamesAndScalarsReadLikeTheDecoder() throws {
        let editor = try #require(JSONObjectEditor(Array(#"{"a\"b": 1, "n": -12, "f": 1.5e2, "e": 1e3, "t": true, "s": "x\"y", "z": null}"#.utf8)))
        #expect(editor.contains("a\"b"))
        #expect(editor.value("n", as: Int.self) == -12)
        #expect(editor.value("f", as: Double.self) == 150)
        #expect(editor.value("e", as: Int.self) == 1000)  // not a plain integer: the decoder's reading
        #expect(editor.value("t", as: Bool.self) == true)
        #expect(editor.value("s", as: String.self) == "x\"y")
        #expect(editor.value("z", as: Int.self) == nil)
        #expect(editor.value("s", as: Int.self) == nil)
        #expect(JSONObjectEditor(Array(#"{"a": 1,}"#.utf8)) == nil)
    }

    @Test func aModelNameIsSetAsAnEscapedString() throws {
        let patched = ModelNamePatch.apply(ByteBuffer(string: #"{"id":"x","model":"up","n":1}"#), model: #"we"ird\name"#)
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(patched.readableBytesView))
        #expect(object["model"] == .string(#"we"ird\name"#))
        #expect(String(buffer: patched).hasPrefix(#"{"id":"x","model":"#))
    }

    @Test func theRelayHeadReadsThePipelineFieldsAndRefusesWrongTypes() throws {
        let body = ByteBuffer(string: """
            {"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},
             "max_tokens":64,"temperature":0.5,"user":"u-1","logprobs":true}
            """)
        let head = try ChatCompletionRequest(relayHead: body)
        #expect(head.model == "m" && head.isStreaming && head.wantsStreamUsage && head.maxTokens == 64)
        #expect(head.temperature == 0.5 && head.user == "u-1" && head.clientJSON == body)
        let refusals: [(String, String)] = [
            (#"{"messages":[{"role":"user"}]}"#, "model"),
            (#"{"model":"m"}"#, "messages"),
            (#"{"model":"m","messages":[]}"#, "messages"),
            (#"{"model":"m","messages":[ ]}"#, "messages"),
            (#"{"model":"m","messages":"hi"}"#, "messages"),
            (#"{"model":"m","messages":[{}],"stream":"yes"}"#, "stream"),
            (#"{"model":"m","messages":[{}],"max_tokens":"64"}"#, "max_tokens"),
            (#"{"model":"m","messages":[{}],"stream_options":{"include_usage":1}}"#, "stream_options.include_usage"),
            (#"{"model":1,"messages":[{}]}"#, "model"),
            ("[1]", "JSON"),
        ]
        for (json, field) in refusals {
            do {
                _ = try ChatCompletionRequest(relayHead: ByteBuffer(string: json))
                Issue.record("\(json) was accepted")
            } catch {
                #expect(error.status == 400 && error.message.contains(field), "\(json): \(error.message)")
            }
        }
    }

    @Test func aRelayedAnswerKeepsItsBytesAndReadsOnlyItsUsage() throws {
        let answer = ByteBuffer(string: """
            {"id":"c1","model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],
             "usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":2},
             "completion_tokens_details":{"reasoning_tokens":1}}}
            """)
        let relayed = try #require(ChatCompletionResponse.relayed(answer))
        let decoded = try ProviderJSON.decode(ChatCompletionResponse.self, from: answer)
        #expect(relayed.usage == decoded.usage)
        #expect(relayed.usage == Usage(promptTokens: 7, completionTokens: 3, totalTokens: 10, cachedTokens: 2, reasoningTokens: 1))
        #expect(relayed.upstreamJSON == answer)
        // Not an answer: left to the full decode, which fails as before.
        #expect(ChatCompletionResponse.relayed(ByteBuffer(string: #"{"error":{"message":"x"}}"#)) == nil)
        #expect(ChatCompletionResponse.relayed(ByteBuffer(string: #"{"choices":[],"usage":{"prompt_tokens":"x"}}"#)) == nil)
    }

    @Test func relayedChunksDropOrStripUsageTheClientDidNotAskFor() throws {
        let content = ByteBuffer(string: #"{"id":"c","choices":[{"index":0,"delta":{"content":"a"}}]}"#)
        guard case .relay(let bytes, let none) = ChatCompletionChunk.relayed(content, forwardUsage: false) else { Issue.record("not relayed"); return }
        #expect(bytes == content && none == nil)

        let usageOnly = ByteBuffer(string: #"{"id":"c","choices":[ ],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#)
        guard case .drop(let dropped) = ChatCompletionChunk.relayed(usageOnly, forwardUsage: false) else { Issue.record("not dropped"); return }
        #expect(dropped.promptTokens == 5 && dropped.totalTokens == 7)
        guard case .relay(let kept, let usage) = ChatCompletionChunk.relayed(usageOnly, forwardUsage: true) else { Issue.record("not kept"); return }
        #expect(kept == usageOnly && usage?.completionTokens == 2)

        let both = ByteBuffer(string: #"{"id":"c","choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#)
        guard case .relay(let stripped, let read) = ChatCompletionChunk.relayed(both, forwardUsage: false) else { Issue.record("not relayed"); return }
        #expect(!String(buffer: stripped).contains("usage") && read?.promptTokens == 5)

        for other in [#"{"error":{"message":"overloaded"}}"#, "{\"id\":\"c\",\n\"choices\":[]}"] {
            guard case .decode = ChatCompletionChunk.relayed(ByteBuffer(string: other), forwardUsage: false) else {
                Issue.record("\(other) should be decoded in full")
                return
            }
        }
    }
}
