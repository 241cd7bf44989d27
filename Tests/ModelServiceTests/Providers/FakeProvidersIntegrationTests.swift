import FakeProviders
import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// Every adapter against the shared fake upstreams (`FakeProviders`), the same server the gateway's tests use.
@Suite struct FakeProvidersIntegrationTests {
    static let providers: [ProviderKind] = ProviderKind.allCases

    static func fake(_ provider: ProviderKind) -> FakeProvider {
        FakeProvider(rawValue: provider.rawValue) ?? .openai
    }

    static func target(_ provider: ProviderKind, _ fakes: RunningFakeProviders, model: String, key: String? = nil) -> UpstreamTarget {
        UpstreamTarget(
            provider: provider,
            upstreamModel: model,
            baseURL: fakes.baseURL(fake(provider)),
            apiKey: provider == .ollama && key == nil
                ? nil : Secret(key ?? (provider == .vertex ? fakes.vertexServiceAccountJSON() : "sk-fake-\(provider.rawValue)-0001"))
        )
    }

    static func withFakes(_ body: @Sendable (RunningFakeProviders, UpstreamClient) async throws -> Void) async throws {
        let fakes = try await FakeProviderServer.start()
        let httpClient = UpstreamClient.makeHTTPClient(connectTimeout: .seconds(2))
        let client = UpstreamClient(httpClient: httpClient, requestTimeout: .seconds(10))
        let result: Result<Void, any Error>
        do {
            result = .success(try await body(fakes, client))
        } catch {
            result = .failure(error)
        }
        try await httpClient.shutdown()
        await fakes.stop()
        try result.get()
    }

    static func request(stream: Bool, tools: Bool = false) throws -> ChatCompletionRequest {
        var request = try decodeRequest(tools ? toolConversationJSON : sampleRequestJSON)
        if tools {
            request.messages = [.text(.user, "Weather in Paris?")]
            request.toolChoice = nil
        }
        request.stream = stream
        request.streamOptions = stream ? .init(includeUsage: true) : nil
        return request
    }

    @Test(arguments: providers)
    func streamedTextEqualsCompletedText(_ provider: ProviderKind) async throws {
        try await Self.withFakes { fakes, client in
            let adapter = ProviderAdapters.adapter(for: provider)
            let target = Self.target(provider, fakes, model: "fake-echo")
            let response = try await adapter.complete(Self.request(stream: false), target: target, client: client)
            let text = try #require(response.choices.first?.message.content?.text)
            #expect(!text.isEmpty)
            #expect(response.usage != nil)
            let stream = try await adapter.stream(Self.request(stream: true), target: target, client: client)
            var chunks: [ChatCompletionChunk] = []
            for try await chunk in stream { chunks.append(chunk) }
            #expect(joinedContent(chunks) == text)
            #expect(finishReason(chunks) == "stop")
            #expect(stream.usage != nil)
            #expect(chunks.last?.usage == stream.usage)
        }
    }

    @Test(arguments: providers)
    func toolCallsComeBackInBothModes(_ provider: ProviderKind) async throws {
        try await Self.withFakes { fakes, client in
            let adapter = ProviderAdapters.adapter(for: provider)
            let target = Self.target(provider, fakes, model: "fake-tool")
            let response = try await adapter.complete(Self.request(stream: false, tools: true), target: target, client: client)
            let call = try #require(response.choices.first?.message.toolCalls?.first)
            #expect(call.function.name == "get_weather")
            #expect((try? JSONValue(jsonText: call.function.arguments))?.objectValue != nil)
            #expect(response.choices.first?.finishReason == "tool_calls")

            let stream = try await adapter.stream(Self.request(stream: true, tools: true), target: target, client: client)
            var chunks: [ChatCompletionChunk] = []
            for try await chunk in stream { chunks.append(chunk) }
            let deltas = chunks.flatMap(\.choices).compactMap(\.delta.toolCalls).flatMap { $0 }
            #expect(deltas.compactMap(\.function?.name).first == "get_weather")
            let arguments = deltas.compactMap(\.function?.arguments).joined()
            #expect((try? JSONValue(jsonText: arguments))?.objectValue != nil)
            #expect(finishReason(chunks) == "tool_calls")
        }
    }

    @Test(arguments: providers)
    func errorsMapToProviderErrors(_ provider: ProviderKind) async throws {
        try await Self.withFakes { fakes, client in
            let adapter = ProviderAdapters.adapter(for: provider)
            let limited = await #expect(throws: ProviderError.self) {
                try await adapter.complete(Self.request(stream: false), target: Self.target(provider, fakes, model: "fake-rate-limit"), client: client)
            }
            guard case .upstreamRejected(429, _, _, _, "7") = limited else {
                Issue.record("expected 429 with Retry-After 7, got \(String(describing: limited))")
                return
            }
            let failed = await #expect(throws: ProviderError.self) {
                try await adapter.stream(Self.request(stream: true), target: Self.target(provider, fakes, model: "fake-error-500"), client: client)
            }
            #expect(failed?.gatewayStatus == 502)
            guard provider != .ollama else { return }
            let key = "bad-key-\(provider.rawValue)-777"
            let rejected = await #expect(throws: ProviderError.self) {
                try await adapter.complete(Self.request(stream: false), target: Self.target(provider, fakes, model: "fake-echo", key: key), client: client)
            }
            // Gemini answers an unknown key with a 400 API_KEY_INVALID; every provider's refusal reads as a key rejection.
            #expect(rejected?.gatewayStatus == 424 && rejected?.rejectsKey == true)
            #expect(!String(describing: rejected).contains(key))
        }
    }
}
