import AsyncHTTPClient
import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Console single sign-on in headless Chromium against a real OpenID provider run locally (`oidc-provider-mock`
/// from PyPI): the round trip, groups becoming the admin role and teams, losing admin at the next sign-in, and a
/// wrong state, a wrong nonce and an expired ID token each refused with a page. CI installs the provider, playwright and Chromium; elsewhere a missing one skips.
@Suite struct ConsoleSignOnBrowserTests {
    static let script = ConsoleBrowserTests.script.deletingLastPathComponent().appendingPathComponent("sso_browser_check.py")

    static var providerInstalled: Bool { (try? ChildProcess.output(of: ["python3", "-c", "import oidc_provider_mock"]).status) == 0 }
    static var enabled: Bool { (ConsoleBrowserTests.browserInstalled && providerInstalled) || ProcessInfo.processInfo.environment["CI"] != nil }

    /// Starts `python3 -m oidc_provider_mock` on a free port; returns the process and its URL once discovery answers.
    static func startProvider(extra: [String] = []) async throws -> (Process, String) {
        for _ in 0..<5 {
            let port = Int.random(in: 30_000...45_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "oidc_provider_mock", "--port", "\(port)", "--host", "127.0.0.1"] + extra
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try ChildProcess.run(process)
            let url = "http://127.0.0.1:\(port)"
            let up = try await eventually(timeout: .seconds(30)) {
                guard process.isRunning else { return true }
                let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/.well-known/openid-configuration"), timeout: .seconds(2))
                return response?.status == .ok
            }
            if up != nil, process.isRunning { return (process, url) }
            process.terminate()
        }
        throw TestFailure("oidc-provider-mock did not start")
    }

    @Test(.enabled(if: ConsoleSignOnBrowserTests.enabled, "playwright, chromium or oidc-provider-mock is not installed"))
    func signingInThroughARealProviderInARealBrowser() async throws {
        #expect(ConsoleBrowserTests.browserInstalled && Self.providerInstalled, "CI must install chromium, playwright and oidc-provider-mock")
        let (process, issuer) = try await Self.startProvider()
        defer { process.terminate() }
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: Self.environment(issuer), live: true) { client, components in
            let result = try await Self.browse(port: try #require(client.port), issuer: issuer)
            #expect(result.failures.isEmpty, "\(result.failures.joined(separator: "\n"))")
            #expect(result.screenshots.count >= 5, "\(result.screenshots)")
            #expect(components.teams.teams().map(\.name) == ["Research"])
            #expect(components.teams.memberships(of: "olga").values.first == .member)
        }
    }

    /// The same provider told to issue ID tokens that expired two minutes before they were made (past the minute of skew).
    @Test(.enabled(if: ConsoleSignOnBrowserTests.enabled, "playwright, chromium or oidc-provider-mock is not installed"))
    func anExpiredIDTokenFromARealProviderIsRefused() async throws {
        let (process, issuer) = try await Self.startProvider(extra: ["--token-max-age=-120"])
        defer { process.terminate() }
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: Self.environment(issuer), live: true) { client, components in
            let result = try await Self.browse(port: try #require(client.port), issuer: issuer, mode: "expired")
            #expect(result.failures.isEmpty, "\(result.failures.joined(separator: "\n"))")
            #expect(try await components.tokens.list().filter { $0.name.contains("SSO") }.isEmpty)
        }
    }

    static func environment(_ issuer: String) -> [String: String] {
        [
            "OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "model-service-console", "OIDC_CLIENT_SECRET": "mock-accepts-any-secret-0123",
            "OIDC_ADMIN_GROUPS": "ms-admins", "OIDC_NAME": "the company's provider",
        ]
    }

    static func browse(port: Int, issuer: String, mode: String? = nil) async throws -> ConsoleBrowserTests.Outcome {
        let arguments = ["python3", Self.script.path, "http://127.0.0.1:\(port)", issuer, ConsoleBrowserTests.screenshots.path] + (mode.map { [$0] } ?? [])
        let (status, output) = try await ChildProcess.outputOffThePool(of: arguments)
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last, "\(output)")
        return try JSONDecoder().decode(ConsoleBrowserTests.Outcome.self, from: Data(line.utf8))
    }
}
