import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct OllamaTranslatorTests {
    let target = UpstreamTarget(provider: .ollama, upstreamModel: "llama3.2", baseURL: "http://h:11434", apiKey: nil)

    @Test func bodyOptionsFormatAndImages() throws {
        var request = try decodeRequest(sampleRequestJSON)
        request.responseFormat = .object(["type": .string("json_object")])
        request.messages.append(
            ChatMessage(role: .user, content: .parts([.text("see"), .imageURL(url: "data:image/png;base64,QUJD", detail: nil)]))
        )
        let body = try OllamaTranslator.body(for: request, target: target, streaming: false)
        #expect(body["model"] == .string("llama3.2"))
        #expect(body["stream"] == .bool(false))
        #expect(body["format"] == .string("json"))
        #expect(body["options"] == .object(["temperature": .number(0.5), "top_p": .number(0.9), "num_predict": .number(100), "stop": .array([.string("END")])]))
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"] } == [.string("system"), .string("system"), .string("user"), .string("user")])
        #expect(messages[3]["images"] == .array([.string("QUJD")]))
        #expect(messages[3]["content"] == .string("see"))
        #expect(OllamaAdapter().headers(for: target).isEmpty)
    }

    @Test func toolCallsBothWays() throws {
        let body = try OllamaTranslator.body(for: decodeRequest(toolConversationJSON), target: target, streaming: false)
        let assistant = body["messages"]?.arrayValue?[1]
        #expect(assistant?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == .object(["city": .string("Paris")]))
        #expect(body["tools"]?.arrayValue?.first?["function"]?["name"] == .string("get_weather"))

        let answer = #"{"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":true,"done_reason":"stop","prompt_eval_count":20,"eval_count":6}"#
        let response = OllamaTranslator.response(from: try ProviderJSON.decodeUpstream(OllamaChatResponse.self, from: buffer(answer)), model: "x")
        #expect(response.choices[0].message.toolCalls?.first?.function.name == "get_weather")
        #expect(response.choices[0].finishReason == "tool_calls")
        #expect(response.usage == Usage(promptTokens: 20, completionTokens: 6))
    }

    @Test func streamJoinsToTheSameTextWithUsage() throws {
        let text = """
            {"model":"llama3.2","message":{"role":"assistant","content":"Hel"},"done":false}
            {"model":"llama3.2","message":{"role":"assistant","content":"lo"},"done":false}
            {"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","prompt_eval_count":4,"eval_count":2}

            """
        let (chunks, usage) = try decodeInPieces(OllamaStreamDecoder(model: "m", forwardUsage: true, apiKey: nil), text, pieceSize: 6)
        #expect(joinedContent(chunks) == "Hello")
        #expect(finishReason(chunks) == "length")
        #expect(usage == Usage(promptTokens: 4, completionTokens: 2))
        #expect(chunks.last?.usage == usage)
        #expect(throws: ProviderError.self) {
            try decodeInPieces(OllamaStreamDecoder(model: "m", forwardUsage: false, apiKey: nil), "{\"error\":\"model not found\"}\n")
        }
    }
}
