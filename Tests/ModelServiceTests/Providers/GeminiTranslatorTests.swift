import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

@Suite struct GeminiTranslatorTests {
    let target = UpstreamTarget(provider: .gemini, upstreamModel: "gemini-2.0-flash", baseURL: "http://h/", apiKey: Secret("g-key"))

    @Test func urlsAndHeader() {
        #expect(GeminiAdapter.url(for: target, method: "generateContent") == "http://h/v1beta/models/gemini-2.0-flash:generateContent")
        #expect(GeminiAdapter.url(for: target, method: "streamGenerateContent?alt=sse") == "http://h/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse")
        var prefixed = target
        prefixed.upstreamModel = "models/gemini-pro"
        #expect(GeminiAdapter.url(for: prefixed, method: "generateContent") == "http://h/v1beta/models/gemini-pro:generateContent")
        #expect(GeminiAdapter().headers(for: target).map(\.0) == ["x-goog-api-key"])
    }

    @Test func systemRolesAndGenerationConfig() throws {
        var request = try decodeRequest(sampleRequestJSON)
        request.messages.append(.text(.assistant, "Hi."))
        request.responseFormat = .object(["type": .string("json_object")])
        let body = try GeminiTranslator.body(for: request)
        #expect(body["systemInstruction"] == .object(["parts": .array([.object(["text": .string("Be brief.\n\nAnswer in English.")])])]))
        #expect(body["contents"]?.arrayValue?.map { $0["role"] } == [.string("user"), .string("model")])
        #expect(body["contents"]?.arrayValue?.first?["parts"] == .array([.object(["text": .string("Hello?")])]))
        let config = body["generationConfig"]
        #expect(config?["temperature"] == .number(0.5))
        #expect(config?["topP"] == .number(0.9))
        #expect(config?["maxOutputTokens"] == .number(100))
        #expect(config?["stopSequences"] == .array([.string("END")]))
        #expect(config?["responseMimeType"] == .string("application/json"))
        #expect(body["tools"] == nil)
    }

    @Test func toolsFunctionCallsAndResponses() throws {
        let body = try GeminiTranslator.body(for: decodeRequest(toolConversationJSON))
        let declaration = body["tools"]?.arrayValue?.first?["functionDeclarations"]?.arrayValue?.first
        #expect(declaration?["name"] == .string("get_weather"))
        #expect(declaration?["parameters"]?["additionalProperties"] == nil)
        #expect(declaration?["parameters"]?["properties"]?["city"] == .object(["type": .string("string")]))
        #expect(
            body["toolConfig"]
                == .object(["functionCallingConfig": .object(["mode": .string("ANY"), "allowedFunctionNames": .array([.string("get_weather")])])])
        )
        let contents = try #require(body["contents"]?.arrayValue)
        #expect(contents.map { $0["role"] } == [.string("user"), .string("model"), .string("user"), .string("user")])
        let calls = try #require(contents[1]["parts"]?.arrayValue)
        #expect(calls[0] == .object(["functionCall": .object(["name": .string("get_weather"), "args": .object(["city": .string("Paris")])])]))
        let responses = try #require(contents[2]["parts"]?.arrayValue)
        #expect(responses[0]["functionResponse"]?["name"] == .string("get_weather"))
        #expect(responses[0]["functionResponse"]?["response"] == .object(["content": .object(["temp": .number(21)])]))
        #expect(responses[1]["functionResponse"]?["name"] == .string("get_time"))
        #expect(responses[1]["functionResponse"]?["response"] == .object(["content": .string("noon")]))
    }

    @Test func inlineImages() throws {
        let request = try decodeRequest(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}}]}]}"#
        )
        let part = try GeminiTranslator.body(for: request)["contents"]?.arrayValue?.first?["parts"]?.arrayValue?.first
        #expect(part == .object(["inlineData": .object(["mimeType": .string("image/jpeg"), "data": .string("/9j/")])]))
    }

    static let answer = """
        {"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"},{"text":" there"}]},"finishReason":"STOP","index":0}],
        "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"totalTokenCount":11},"modelVersion":"gemini-2.0-flash","responseId":"r1"}
        """

    @Test func responseTextAndUsage() throws {
        let response = GeminiTranslator.response(from: try ProviderJSON.decodeUpstream(GeminiResponse.self, from: buffer(Self.answer)), model: "x")
        #expect(response.choices[0].message.content == .text("Hello there"))
        #expect(response.choices[0].finishReason == "stop")
        #expect(response.usage == Usage(promptTokens: 8, completionTokens: 3, totalTokens: 11))
        #expect(response.model == "gemini-2.0-flash")
    }

    @Test func responseFunctionCallAndFinishReasons() throws {
        let answer = """
            {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP"}]}
            """
        let response = GeminiTranslator.response(from: try ProviderJSON.decodeUpstream(GeminiResponse.self, from: buffer(answer)), model: "x")
        let call = try #require(response.choices[0].message.toolCalls?.first)
        #expect(call.id == "call_0")
        #expect(try JSONValue(jsonText: call.function.arguments) == .object(["city": .string("Paris")]))
        #expect(response.choices[0].finishReason == "tool_calls")
        #expect(response.choices[0].message.content == nil)
        #expect(GeminiTranslator.finishReason("MAX_TOKENS", sawFunctionCall: false) == "length")
        #expect(GeminiTranslator.finishReason("SAFETY", sawFunctionCall: false) == "content_filter")
        #expect(GeminiTranslator.finishReason("RECITATION", sawFunctionCall: false) == "content_filter")
    }

    @Test func streamJoinsToTheSameTextWithUsage() throws {
        let text = """
            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"usageMetadata":{"promptTokenCount":8},"responseId":"r1"}\r
            \r
            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo there"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":3,"totalTokenCount":11}}\r
            \r

            """
        let (chunks, usage) = try decodeInPieces(GeminiStreamDecoder(model: "m", forwardUsage: true, apiKey: nil), text, pieceSize: 5)
        #expect(joinedContent(chunks) == "Hello there")
        #expect(chunks.first?.choices.first?.delta.role == .assistant)
        #expect(finishReason(chunks) == "stop")
        #expect(usage == Usage(promptTokens: 8, completionTokens: 3, totalTokens: 11))
        #expect(chunks.last?.usage == usage)
    }

    @Test func streamFunctionCall() throws {
        let text = """
            data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP"}]}


            """
        let (chunks, _) = try decodeInPieces(GeminiStreamDecoder(model: "m", forwardUsage: false, apiKey: nil), text)
        let call = try #require(chunks.flatMap(\.choices).compactMap(\.delta.toolCalls).flatMap { $0 }.first)
        #expect(call.id == "call_0" && call.function?.name == "get_weather")
        #expect(finishReason(chunks) == "tool_calls")
    }
}
