import ArgumentParser
import FakeProviders
import Foundation
import Logging

/// `model-service fake-providers --port N`: the fake upstreams of the tests, for trials and benchmarks.
struct FakeProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-providers",
        abstract: "Serve fake OpenAI, Anthropic, Gemini, Azure, Ollama, xAI and DeepSeek endpoints on loopback."
    )

    @Option(help: "Port to listen on (0 picks a free one).") var port: Int = 8099
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Flag(help: "Keep the last 1,000 requests received (off for benchmarks).") var record = false

    func run() async throws {
        try await FakeProviderServer.run(host: host, port: port, record: record)
    }
}
