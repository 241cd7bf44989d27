import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The official Anthropic Python SDK against `/v1/messages` on a real port, for an Anthropic (relayed),
/// an OpenAI and a Gemini model (translated): text, streams, tools both ways, the system prompt,
/// count_tokens, both ways of sending the token, and typed errors. CI must have the SDK; locally it may skip.
@Suite struct AnthropicSDKTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sdk/anthropic_sdk_check.py")

    static var sdkInstalled: Bool {
        (try? ChildProcess.output(of: ["python3", "-c", "import anthropic"]).status) == 0
    }

    /// In CI the SDK must be there: a missing SDK fails instead of skipping.
    static var enabled: Bool { sdkInstalled || ProcessInfo.processInfo.environment["CI"] != nil }

    struct Output: Decodable {
        struct ToolUse: Decodable, Equatable {
            var name: String
            var input: [String: String]
        }
        struct Result: Decodable {
            var plain: String
            var plainModel: String
            var plainStop: String
            var plainUsage: [Int]
            var streamed: String
            var streamedModel: String
            var streamedStop: String
            var streamedOutputTokens: Int
            var toolPlain: ToolUse?
            var toolPlainStop: String
            var toolStreamed: ToolUse?
            var toolStreamedStop: String
            var afterTool: String
            var countTokens: Int
        }
        struct Failure: Decodable {
            var status: Int
            var type: String?
            var message: String?
        }
        var results: [String: Result]
        var errors: [String: Failure?]
    }

    @Test(.enabled(if: AnthropicSDKTests.enabled, "the anthropic Python package is not installed (pip install anthropic)"))
    func officialSDKUsesMessagesOnAnthropicOpenAIAndGeminiModels() async throws {
        try await GatewayHarness.run { client, _, _ in
            let port = try #require(client.port)
            let providers = ["anthropic", "openai", "gemini"]
            let (status, output) = try await ChildProcess.outputOffThePool(of:
                [
                    "env", "-u", "ANTHROPIC_API_KEY", "-u", "ANTHROPIC_AUTH_TOKEN", "python3", Self.script.path, "http://127.0.0.1:\(port)",
                    TestApp.adminToken,
                ]
                    + providers)
            #expect(status == 0, "\(output)")
            let line = try #require(output.split(separator: "\n").last)
            let result = try JSONDecoder().decode(Output.self, from: Data(line.utf8))
            let weather = Output.ToolUse(name: "get_weather", input: ["city": "Paris"])
            for provider in providers {
                let run = try #require(result.results[provider], "\(provider)")
                let echo = "Echo from \(provider): Hello from the SDK"
                #expect(run.plain == echo)
                #expect(run.plainModel == "test-\(provider)/fake-echo")
                #expect(run.plainStop == "end_turn")
                #expect(run.plainUsage == [7, 7], "\(provider)")  // "You are terse." + "Hello from the SDK"; seven answer words
                #expect(run.streamed == echo)
                #expect(run.streamedModel == "test-\(provider)/fake-echo")
                #expect(run.streamedStop == "end_turn")
                #expect(run.streamedOutputTokens == 7, "\(provider)")
                #expect(run.toolPlain == weather, "\(provider)")
                #expect(run.toolPlainStop == "tool_use")
                #expect(run.toolStreamed == weather, "\(provider)")
                #expect(run.toolStreamedStop == "tool_use")
                #expect(run.afterTool.hasPrefix("Echo from \(provider)"))
                #expect(run.countTokens > 0)
            }
            #expect(result.results["anthropic"]?.countTokens == 7)  // the fake's own count, relayed
            #expect(result.errors["authentication"]??.status == 401)
            #expect(result.errors["authentication"]??.type == "authentication_error")
            #expect(result.errors["notFound"]??.status == 404)
            #expect(result.errors["notFound"]??.type == "not_found_error")
            #expect(result.errors["badRequest"]??.status == 400)
            #expect(result.errors["badRequest"]??.message?.hasPrefix("messages[0].content[0].type") == true)
            #expect(result.errors["rateLimit"]??.status == 429)
            #expect(result.errors["rateLimit"]??.type == "rate_limit_error")
        }
    }
}
