import Foundation
import NIOCore
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The Converse mapping both ways: request bodies, answers, stop reasons and usage with the prompt cache.
@Suite struct BedrockTranslatorTests {
    let target = UpstreamTarget(
        provider: .bedrock, upstreamModel: "anthropic.claude-sonnet-4-20250514-v1:0", baseURL: "https://bedrock-runtime.eu-west-1.amazonaws.com/",
        apiKey: Secret("ABSK-test"))

    @Test func urlsEscapeTheModelIdAsOneSegment() {
        #expect(BedrockAdapter.url(for: target, action: "converse")
            == "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-sonnet-4-20250514-v1%3A0/converse")
        var arn = target
        arn.upstreamModel = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-3-70b-instruct-v1:0"
        #expect(BedrockAdapter.url(for: arn, action: "converse-stream").hasSuffix(
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.meta.llama3-3-70b-instruct-v1%3A0/converse-stream"))
    }

    @Test func regionComesFromTheSettingThenTheHostThenTheDefault() {
        #expect(BedrockAdapter.region(for: target) == "eu-west-1")
        var named = target
        named.settings = ["region": .string("ap-southeast-2")]
        #expect(BedrockAdapter.region(for: named) == "ap-southeast-2")
        var proxied = target
        proxied.baseURL = "http://127.0.0.1:9000/bedrock"
        #expect(BedrockAdapter.region(for: proxied) == "us-east-1")
        proxied.settings = ["region": .string("evil.example.com/#")]
        #expect(BedrockAdapter.region(for: proxied) == "us-east-1")
        #expect(BedrockRegion.controlPlaneURL(forBaseURL: "https://bedrock-runtime.eu-west-1.amazonaws.com") == "https://bedrock.eu-west-1.amazonaws.com")
        #expect(BedrockRegion.controlPlaneURL(forBaseURL: "http://127.0.0.1:9000/bedrock") == "http://127.0.0.1:9000/bedrock")
        #expect(!BedrockRegion.isValid("us-east-1.evil.com") && !BedrockRegion.isValid("US-EAST-1") && !BedrockRegion.isValid("") && BedrockRegion.isValid("us-gov-west-1"))
    }

    @Test func systemMessagesInferenceConfigAndTopK() throws {
        var request = try decodeRequest(sampleRequestJSON)
        request.messages.append(.text(.assistant, "Hi."))
        request.topK = 40
        let body = try BedrockTranslator.body(for: request)
        #expect(body["system"] == .array([.object(["text": .string("Be brief.")]), .object(["text": .string("Answer in English.")])]))
        #expect(body["messages"]?.arrayValue?.map { $0["role"] } == [.string("user"), .string("assistant")])
        #expect(body["messages"]?.arrayValue?.first?["content"] == .array([.object(["text": .string("Hello?")])]))
        #expect(
            body["inferenceConfig"]
                == .object(["maxTokens": .number(100), "temperature": .number(0.5), "topP": .number(0.9), "stopSequences": .array([.string("END")])]))
        #expect(body["additionalModelRequestFields"] == .object(["top_k": .number(40)]))
        #expect(body["toolConfig"] == nil && body["model"] == nil && body["stream"] == nil)
    }

    @Test func toolsCallsAndResultsAlternateRoles() throws {
        let body = try BedrockTranslator.body(for: decodeRequest(toolConversationJSON))
        let spec = body["toolConfig"]?["tools"]?.arrayValue?.first?["toolSpec"]
        #expect(spec?["name"] == .string("get_weather") && spec?["description"] == .string("Weather by city"))
        #expect(spec?["inputSchema"]?["json"]?["properties"]?["city"] == .object(["type": .string("string")]))
        #expect(body["toolConfig"]?["toolChoice"] == .object(["tool": .object(["name": .string("get_weather")])]))
        let messages = try #require(body["messages"]?.arrayValue)
        // The two tool results and the user's "Thanks" form one user turn: Bedrock wants roles to alternate.
        #expect(messages.map { $0["role"] } == [.string("user"), .string("assistant"), .string("user")])
        let calls = try #require(messages[1]["content"]?.arrayValue)
        #expect(calls[0] == .object(["toolUse": .object(["toolUseId": .string("call_a"), "name": .string("get_weather"), "input": .object(["city": .string("Paris")])])]))
        #expect(calls[1]["toolUse"]?["input"] == .object([:]))
        let results = try #require(messages[2]["content"]?.arrayValue)
        #expect(results.count == 3)
        #expect(
            results[0]
                == .object([
                    "toolResult": .object([
                        "toolUseId": .string("call_a"), "content": .array([.object(["text": .string(#"{"temp":21}"#)])]), "status": .string("success"),
                    ])
                ]))
        #expect(results[1]["toolResult"]?["toolUseId"] == .string("call_b"))
        #expect(results[2] == .object(["text": .string("Thanks")]))
    }

    @Test func toolChoiceForms() throws {
        var request = try decodeRequest(toolConversationJSON)
        request.messages = [.text(.user, "Weather?")]
        for (choice, expected) in [
            (JSONValue.string("auto"), JSONValue.object(["auto": .object([:])])), (.string("required"), .object(["any": .object([:])])),
        ] {
            request.toolChoice = choice
            #expect(try BedrockTranslator.body(for: request)["toolConfig"]?["toolChoice"] == expected)
        }
        request.toolChoice = .string("none")
        #expect(try BedrockTranslator.body(for: request)["toolConfig"] == nil)
        // With tool calls in the history Bedrock requires the tools, so "none" sends them without a choice.
        var history = try decodeRequest(toolConversationJSON)
        history.toolChoice = .string("none")
        let config = try BedrockTranslator.body(for: history)["toolConfig"]
        #expect(config?["tools"] != nil && config?["toolChoice"] == nil)
    }

    @Test func imagesAsBytesAndRefusals() throws {
        let request = try decodeRequest(
            #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"text","text":""}]}]}"#
        )
        let content = try BedrockTranslator.body(for: request)["messages"]?.arrayValue?.first?["content"]?.arrayValue
        #expect(content?.count == 2)
        #expect(content?.last == .object(["image": .object(["format": .string("png"), "source": .object(["bytes": .string("iVBORw0KGgo=")])])]))
        #expect(BedrockTranslator.imageFormat("image/jpeg") == "jpeg" && BedrockTranslator.imageFormat("image/webp") == "webp")
        for url in ["https://example.com/cat.png", "data:image/tiff;base64,AAAA"] {
            let linked = try decodeRequest(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#)
            #expect(throws: ProviderError.self) { try BedrockTranslator.body(for: linked) }
        }
    }

    @Test func thinkingForReasoningModelsDropsSampling() throws {
        var request = try decodeRequest(sampleRequestJSON)
        request.thinkingBudget = 500
        let body = try BedrockTranslator.body(for: request)
        #expect(body["additionalModelRequestFields"]?["thinking"] == .object(["type": .string("enabled"), "budget_tokens": .number(1_024)]))
        #expect(body["inferenceConfig"]?["temperature"] == nil && body["inferenceConfig"]?["topP"] == nil)
    }

    @Test(arguments: [
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("tool_use", "tool_calls"), ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"), ("content_filtered", "content_filter"), ("something_new", "stop"),
    ])
    func stopReasons(_ reason: String, _ expected: String) {
        #expect(BedrockTranslator.finishReason(reason) == expected)
    }

    @Test func answerWithTextReasoningToolUseAndCachedUsage() throws {
        let json = """
            {"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"Hmm.","signature":"s"}}},
            {"text":"Let me check."},{"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city":"Paris"}}},{"image":{"format":"png"}}]}},
            "stopReason":"tool_use","usage":{"inputTokens":10,"outputTokens":4,"totalTokens":19,"cacheReadInputTokens":3,"cacheWriteInputTokens":2},
            "metrics":{"latencyMs":80}}
            """
        let answer = try ProviderJSON.decodeUpstream(BedrockResponse.self, from: buffer(json))
        let response = BedrockTranslator.response(from: answer, model: "m")
        let message = try #require(response.choices.first?.message)
        #expect(message.content == .text("Let me check.") && message.reasoningContent == "Hmm.")
        #expect(message.toolCalls == [ChatToolCall(id: "tooluse_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        #expect(response.choices.first?.finishReason == "tool_calls" && response.model == "m")
        // Like Anthropic's: the prompt counts cache reads and writes, each named for its own price.
        #expect(response.usage == Usage(promptTokens: 15, completionTokens: 4, cachedTokens: 3, cacheWriteTokens: 2))
    }

    @Test func hostileCountsAreClamped() throws {
        let json = #"{"output":{"message":{"content":[{"text":"x"}]}},"stopReason":"end_turn","usage":{"inputTokens":1e300,"outputTokens":-5,"cacheReadInputTokens":9223372036854775807,"cacheWriteInputTokens":12.5}}"#
        let usage = try #require(try ProviderJSON.decodeUpstream(BedrockResponse.self, from: buffer(json)).usage?.usage)
        #expect(usage.promptTokens == TokenCount.max && usage.completionTokens == 0 && usage.cachedTokens == TokenCount.max)
        #expect(usage.cacheWriteTokens == 12 && usage.totalTokens == TokenCount.max)
    }
}
