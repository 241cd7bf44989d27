import FakeProviders
import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The official Claude Code CLI (the one the PyPI `claude-agent-sdk` package bundles), in print mode against the
/// gateway and the fake providers, on an Anthropic model (relayed) and an OpenAI model (translated). No network:
/// the CLI's telemetry, error reports, updates and other non-essential traffic are switched off, and its home is
/// a scratch directory. CI must have the CLI; locally the test may skip.
@Suite struct ClaudeCodeCLITests {
    /// The bundled CLI's path, when the package is installed.
    static let executable: String? = {
        let script = "import claude_agent_sdk, os; print(os.path.join(os.path.dirname(claude_agent_sdk.__file__), '_bundled', 'claude'))"
        guard let found = try? ChildProcess.output(of: ["python3", "-c", script]), found.status == 0 else { return nil }
        let path = found.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    static var enabled: Bool { executable != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    @Test(.enabled(if: ClaudeCodeCLITests.enabled, "claude-agent-sdk is not installed (pip install claude-agent-sdk)"))
    func claudeCodePrintsTheFakesAnswerOnAnAnthropicAndAnOpenAIModel() async throws {
        let claude = try #require(Self.executable, "claude-agent-sdk must be installed in CI")
        try await GatewayHarness.run { client, fakes, _ in
            let port = try #require(client.port)
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("claude-home-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: home) }
            // The Anthropic model's limits as a real Claude model's: relayed as sent, Claude Code's 32,000 output tokens
            // must fit (the OpenAI model keeps its small limit, to which the translated call is lowered).
            let real = #"{"maxTokens": 200000, "providerSettings": {"maxOutputTokens": 64000}}"#
            #expect(try await client.call(.patch, "/api/models/\(GatewayHarness.modelName(.anthropic))", json: real).status == .ok)
            for provider in [ProviderKind.anthropic, .openai] {
                let model = GatewayHarness.modelName(provider)
                let environment = [
                    "HOME=\(home.path)", "ANTHROPIC_BASE_URL=http://127.0.0.1:\(port)", "ANTHROPIC_AUTH_TOKEN=\(TestApp.adminToken)",
                    "ANTHROPIC_MODEL=\(model)", "ANTHROPIC_SMALL_FAST_MODEL=\(model)", "ANTHROPIC_DEFAULT_HAIKU_MODEL=\(model)",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1", "DISABLE_ERROR_REPORTING=1", "DISABLE_AUTOUPDATER=1",
                    "DISABLE_BUG_COMMAND=1", "CLAUDE_CODE_MAX_RETRIES=0", "API_TIMEOUT_MS=60000",
                ]
                let (status, output) = try await ChildProcess.outputOffThePool(of:
                    ["-u", "ANTHROPIC_API_KEY", "-u", "CLAUDE_CODE_OAUTH_TOKEN"] + environment
                        + ["timeout", "-s", "KILL", "180", claude, "-p", "Say hello to the gateway", "--model", model, "--max-turns", "1"])
                #expect(status == 0, "\(provider): \(output)")
                #expect(output.contains("Echo from \(provider.rawValue):"), "\(provider): \(output)")
                // The call went through the gateway to the model's own provider.
                #expect(await fakes.recorder.last(provider: provider == .anthropic ? .anthropic : .openai) != nil)
            }
        }
    }
}
