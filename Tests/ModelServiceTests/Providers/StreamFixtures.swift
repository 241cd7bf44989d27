/// Canned upstream answers: every format says "Hello there" with 12 prompt and 4 completion tokens.
enum StreamFixtures {
    static func openAIChunk(_ text: String) -> String {
        #"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":null}]}"#
            + "\n\n"
    }

    static func frames(_ format: TestUpstreamServer.Format) -> [String] {
        switch format {
        case .openAI:
            return [
                openAIChunk("Hel"), openAIChunk("lo there"),
                #"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n",
                #"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}"#
                    + "\n\n",
                "data: [DONE]\n\n",
            ]
        case .anthropic:
            return AnthropicTranslatorTests.textStream.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0 + "\n\n" }
        case .gemini:
            return [
                #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}]}"# + "\r\n\r\n",
                #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo there"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":4,"totalTokenCount":16}}"#
                    + "\r\n\r\n",
            ]
        case .ollama:
            return [
                #"{"model":"up","message":{"role":"assistant","content":"Hel"},"done":false}"# + "\n",
                #"{"model":"up","message":{"role":"assistant","content":"lo there"},"done":false}"# + "\n",
                #"{"model":"up","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":12,"eval_count":4}"# + "\n",
            ]
        }
    }

    static func whole(_ format: TestUpstreamServer.Format) -> String {
        switch format {
        case .openAI:
            #"{"id":"c1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}"#
        case .anthropic:
            AnthropicTranslatorTests.textAnswer.replacingOccurrences(of: "max_tokens", with: "end_turn")
        case .gemini:
            GeminiTranslatorTests.answer.replacingOccurrences(of: #""promptTokenCount":8,"candidatesTokenCount":3,"totalTokenCount":11"#, with: #""promptTokenCount":12,"candidatesTokenCount":4,"totalTokenCount":16"#)
        case .ollama:
            #"{"model":"up","message":{"role":"assistant","content":"Hello there"},"done":true,"done_reason":"stop","prompt_eval_count":12,"eval_count":4}"#
        }
    }
}
