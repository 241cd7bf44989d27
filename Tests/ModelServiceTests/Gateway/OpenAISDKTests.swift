import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The official OpenAI Python SDK against the gateway on a real port: a chat, a streamed chat,
/// the model list and the error classes. CI installs the SDK; elsewhere the test runs when it is there.
@Suite struct OpenAISDKTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sdk/openai_sdk_check.py")

    static var sdkInstalled: Bool {
        (try? ChildProcess.output(of: ["python3", "-c", "import openai"]).status) == 0
    }

    /// In CI the SDK must be there: a missing SDK fails instead of skipping.
    static var enabled: Bool { sdkInstalled || ProcessInfo.processInfo.environment["CI"] != nil }

    struct Result: Decodable {
        struct NotFound: Decodable {
            var status: Int
            var message: String
        }
        var plain: String
        var plainUsage: Int?
        var finish: String
        var streamed: String
        var streamUsage: Int?
        var models: [String]
        var notFound: NotFound?
        var unauthorized: Int?
    }

    @Test(.enabled(if: OpenAISDKTests.enabled, "the openai Python package is not installed (pip install openai)"))
    func officialSDKRunsAChatAndAStreamedChat() async throws {
        try await GatewayHarness.run { client, _, _ in
            let port = try #require(client.port)
            let model = GatewayHarness.modelName(.anthropic)
            let (status, output) = try await ChildProcess.outputOffThePool(of: ["python3", Self.script.path, "http://127.0.0.1:\(port)/v1", TestApp.adminToken, model])
            #expect(status == 0, "\(output)")
            let line = try #require(output.split(separator: "\n").last)
            let result = try JSONDecoder().decode(Result.self, from: Data(line.utf8))
            #expect(result.plain == "Echo from anthropic: Hello from the SDK")
            #expect(result.finish == "stop")
            #expect(result.plainUsage == 13)  // 6 prompt words + 7 answer words
            #expect(result.streamed == "Echo from anthropic: Hello from the SDK")
            #expect(result.streamUsage != nil)
            #expect(result.models.contains(model))
            #expect(result.notFound?.status == 404)
            #expect(result.unauthorized == 401)
        }
    }
}
