import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Every console flow in headless Chromium, driven by playwright from Python, against the app on a
/// real socket with the fake providers. CI installs both; a missing one fails there and skips elsewhere.
@Suite struct ConsoleBrowserTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("console/console_browser_check.py")

    /// Screenshots go to `.build/screenshots/` (git-ignored) of the package.
    static let screenshots = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/screenshots")

    static var browserInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && (try? ChildProcess.output(of: ["python3", "-c", "import playwright.sync_api"]).status) == 0
    }

    /// In CI the browser must be there: a missing one fails instead of skipping.
    static var enabled: Bool { browserInstalled || ProcessInfo.processInfo.environment["CI"] != nil }

    struct Outcome: Decodable {
        var failures: [String]
        var screenshots: [String]
    }

    @Test(.enabled(if: ConsoleBrowserTests.enabled, "playwright or /usr/bin/chromium is not installed"))
    func everyConsoleFlowWorksInARealBrowser() async throws {
        #expect(Self.browserInstalled, "CI must install chromium and playwright")
        try await GatewayHarness.run { client, _, components in
            let port = try #require(client.port)
            // The flow works on the first page of the models list (50 rows, provider then name order), where its new
            // OpenAI model must land: the harness's Bedrock rows, which sort before it, would push it to page 2.
            for model in components.registry.models(provider: .bedrock) {
                #expect(try await client.call(.delete, "/api/models/\(model.id)").status == .noContent)
            }
            let created = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "bob", "name": "bob"}"#)
            #expect(created.status == .created)
            let userToken = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])["token"] as? String
            // Some usage for the charts and the tables.
            for _ in 0..<3 {
                let chat = try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.anthropic), stream: false))
                #expect(chat.status == .ok)
            }
            let own = try await client.call(
                .post, "/v1/chat/completions", token: userToken, json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false))
            #expect(own.status == .ok, "\(own.body)")
            try await Task.sleep(for: .milliseconds(300))
            let arguments = ["python3", Self.script.path, "http://127.0.0.1:\(port)", TestApp.adminToken, try #require(userToken), Self.screenshots.path]
            let (status, output) = try await ChildProcess.outputOffThePool(of: arguments)
            #expect(status == 0, "\(output)")
            let line = try #require(output.split(separator: "\n").last, "\(output)")
            let result = try JSONDecoder().decode(Outcome.self, from: Data(line.utf8))
            #expect(result.failures.isEmpty, "\(result.failures.joined(separator: "\n"))")
            #expect(result.screenshots.count >= 14, "\(result.screenshots)")
        }
    }
}
