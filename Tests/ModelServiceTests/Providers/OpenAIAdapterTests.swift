import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct OpenAIAdapterTests {
    let target = UpstreamTarget(provider: .openai, upstreamModel: "gpt-4o-mini", baseURL: "http://h/v1/", apiKey: Secret("sk-test-123456"))

    @Test func upstreamBodyUsesTheUpstreamModelAndAlwaysAsksForStreamUsage() throws {
        var request = try decodeRequest(sampleRequestJSON)
        request.streamOptions = nil
        let body = try json(OpenAIAdapter().upstreamBody(request, target: target, streaming: true))
        #expect(body["model"] == .string("gpt-4o-mini"))
        #expect(body["stream"] == .bool(true))
        #expect(body["stream_options"]?["include_usage"] == .bool(true))
        #expect(body["stop"] == .array([.string("END")]))
        #expect(body["max_tokens"] == .number(100))
        #expect(body["messages"]?.arrayValue?.first?["role"] == .string("system"))
        #expect(body["some_future_field"] == nil)

        let plain = try json(OpenAIAdapter().upstreamBody(request, target: target, streaming: false))
        #expect(plain["stream"] == nil)
        #expect(plain["stream_options"] == nil)
    }

    @Test func urlAndHeaders() {
        #expect(target.url("/chat/completions") == "http://h/v1/chat/completions")
        let headers = OpenAIAdapter().headers(for: target)
        #expect(headers.first { $0.0 == "authorization" }?.1 == "Bearer sk-test-123456")
    }

    @Test func toolCallsGoOutUnchangedAndComeBackDecoded() throws {
        let request = try decodeRequest(toolConversationJSON)
        let body = try json(OpenAIAdapter().upstreamBody(request, target: target, streaming: false))
        let assistant = body["messages"]?.arrayValue?[1]
        #expect(assistant?["content"] == .null)
        #expect(assistant?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == .string(#"{"city":"Paris"}"#))
        #expect(body["tool_choice"]?["function"]?["name"] == .string("get_weather"))

        let answer = """
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp",
            "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}}}
            """
        let response = try ProviderJSON.decodeUpstream(ChatCompletionResponse.self, from: buffer(answer))
        #expect(response.choices[0].finishReason == "tool_calls")
        #expect(response.choices[0].message.toolCalls?.first?.function.name == "get_weather")
        #expect(response.usage == Usage(promptTokens: 10, completionTokens: 5, cachedTokens: 0))
    }

    static let stream = """
        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"content":"lo!"},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}

        data: [DONE]


        """

    @Test(arguments: [true, false])
    func streamRecordsUsageAndForwardsItOnlyWhenAsked(forward: Bool) throws {
        let (chunks, usage) = try decodeInPieces(OpenAIStreamDecoder(forwardUsage: forward, apiKey: nil), Self.stream, pieceSize: 11)
        #expect(joinedContent(chunks) == "Hello!")
        #expect(finishReason(chunks) == "stop")
        #expect(usage == Usage(promptTokens: 3, completionTokens: 2))
        #expect(chunks.last?.usage == (forward ? usage : nil))
        #expect(chunks.count == (forward ? 5 : 4))
    }

    @Test func streamToolCallDeltasPassThrough() throws {
        let text = """
            data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}

            data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]},"finish_reason":null}]}

            data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"finish_reason":"tool_calls"}]}

            data: [DONE]

            """
        let (chunks, _) = try decodeInPieces(OpenAIStreamDecoder(forwardUsage: false, apiKey: nil), text)
        let calls = chunks.flatMap(\.choices).compactMap(\.delta.toolCalls).flatMap { $0 }
        #expect(calls.first?.id == "call_1")
        #expect(calls.compactMap(\.function?.arguments).joined() == #"{"city":"Paris"}"#)
        #expect(finishReason(chunks) == "tool_calls")
    }

    @Test func streamErrorEventIsThrownWithTheKeyScrubbed() {
        let text = "data: {\"error\":{\"message\":\"key sk-test-123456 over quota\",\"type\":\"server_error\"}}\n\n"
        let error = #expect(throws: ProviderError.self) {
            try decodeInPieces(OpenAIStreamDecoder(forwardUsage: false, apiKey: Secret("sk-test-123456")), text)
        }
        #expect(error?.message == "key <redacted> over quota")
        #expect(error?.gatewayStatus == 502)
    }

    @Test func chatChunkStreamReadsABodyAndExposesUsage() async throws {
        let body = HTTPClientResponseBodyFactory.make(pieces(of: Self.stream, size: 13))
        let stream = ChatChunkStream(body: body, decoder: OpenAIStreamDecoder(forwardUsage: false, apiKey: nil), apiKey: nil)
        #expect(stream.usage == nil)
        var text = ""
        for try await chunk in stream { text += chunk.choices.first?.delta.content ?? "" }
        #expect(text == "Hello!")
        #expect(stream.usage == Usage(promptTokens: 3, completionTokens: 2))
    }

    @Test func azureURLAndHeader() {
        let azure = UpstreamTarget(
            provider: .azure,
            upstreamModel: "my-gpt",
            baseURL: "https://r.openai.azure.com/",
            apiKey: Secret("k"),
            settings: ["apiVersion": .string("2025-01-01-preview")]
        )
        #expect(AzureOpenAIAdapter().url(for: azure, operation: "chat/completions") == "https://r.openai.azure.com/openai/deployments/my-gpt/chat/completions?api-version=2025-01-01-preview")
        var defaulted = azure
        defaulted.settings = [:]
        #expect(AzureOpenAIAdapter().url(for: defaulted, operation: "chat/completions").hasSuffix("?api-version=2024-10-21"))
        #expect(AzureOpenAIAdapter().headers(for: azure).map(\.0) == ["api-key"])
    }
}

/// OpenAI-format chunks are relayed as the upstream's own bytes, unless the gateway changed them.
@Suite struct OpenAIStreamRelayTests {
    @Test func unchangedChunksAreRelayedVerbatimAndStrippedUsageIsReEncoded() throws {
        let plain = #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#
        let withUsage = #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#
        let stream = "data: \(plain)\n\ndata: \(withUsage)\n\ndata: [DONE]\n\n"
        for forward in [false, true] {
            var decoder = OpenAIStreamDecoder(forwardUsage: forward, apiKey: nil)
            let chunks = try decoder.decode(ByteBuffer(string: stream)) + decoder.finish()
            #expect(chunks.count == 2)
            let frames = try chunks.map { String(buffer: try SSEWriter.sseFrame(for: $0)) }
            // Fields the gateway does not model (system_fingerprint) survive because the bytes are the upstream's.
            #expect(frames[0] == "data: \(plain)\n\n")
            if forward {
                #expect(frames[1] == "data: \(withUsage)\n\n")
            } else {
                #expect(!frames[1].contains("usage") && frames[1].contains(#""finish_reason":"stop""#))
            }
            #expect(decoder.usage?.totalTokens == 4)
        }
    }
}
