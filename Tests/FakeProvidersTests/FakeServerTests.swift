import Foundation
import Testing

@testable import FakeProviders

@Suite("Fake server lifecycle, behaviours and recorder")
struct FakeServerTests {
    @Test("exposes a base URL per environment variable")
    func baseURLs() async throws {
        try await FakeHTTP.withServer { server in
            #expect(server.port > 0)
            let root = "http://127.0.0.1:\(server.port)"
            #expect(server.baseURLs["OPENAI_BASE_URL"] == root + "/openai/v1")
            #expect(server.baseURLs["XAI_BASE_URL"] == root + "/xai/v1")
            #expect(server.baseURLs["DEEPSEEK_BASE_URL"] == root + "/deepseek/v1")
            #expect(server.baseURLs["ANTHROPIC_BASE_URL"] == root + "/anthropic")
            #expect(server.baseURLs["GEMINI_BASE_URL"] == root + "/gemini")
            #expect(server.baseURLs["AZURE_OPENAI_ENDPOINT"] == root + "/azure")
            #expect(server.baseURLs["OLLAMA_BASE_URL"] == root + "/ollama")
            #expect(server.baseURLs["BEDROCK_BASE_URL"] == root + "/bedrock")
            #expect(server.baseURLs["VERTEX_BASE_URL"] == root + "/vertex")
            #expect(server.baseURLs.count == FakeProvider.allCases.count)
        }
    }

    @Test("stop frees the port and a second server gets its own")
    func stopAndRestart() async throws {
        let first = try await FakeProviderServer.start()
        let second = try await FakeProviderServer.start()
        #expect(first.port != second.port)
        let chat: [String: Any] = ["model": "m", "stream": false, "messages": [["role": "user", "content": "x"]]]
        _ = try await FakeHTTP.send(first.baseURL(.ollama) + "/api/chat", json: chat)
        #expect(await first.recorder.totalReceived == 1)
        await first.stop()
        await second.stop()
        // Tests run in parallel, so another test's server may already have been given the freed port:
        // what must hold is that the stopped server no longer receives anything.
        _ = try? await FakeHTTP.send(first.baseURL(.ollama) + "/api/chat", json: chat)
        #expect(await first.recorder.totalReceived == 1)
    }

    @Test("drop models close the connection without an answer, also mid-stream")
    func drop() async throws {
        try await FakeHTTP.withServer { server in
            let body: [String: Any] = ["model": "m-drop", "messages": [["role": "user", "content": "hi"]]]
            await #expect(throws: (any Error).self) {
                _ = try await FakeHTTP.send(server.baseURL(.openai) + "/chat/completions", headers: ["Authorization": "Bearer k"], json: body)
            }
            var streaming = body
            streaming["stream"] = true
            await #expect(throws: (any Error).self) {
                _ = try await FakeHTTP.send(server.baseURL(.openai) + "/chat/completions", headers: ["Authorization": "Bearer k"], json: streaming)
            }
            // The server keeps serving after a drop.
            let ok = try await FakeHTTP.get(server.baseURL(.openai) + "/models", headers: ["Authorization": "Bearer k"])
            #expect(ok.status == 200)
        }
    }

    @Test("slow-<ms> waits before answering, stream-delay spaces chunks")
    func slowAndStreamDelay() async throws {
        try await FakeHTTP.withServer { server in
            let url = server.baseURL(.ollama) + "/api/chat"
            let clock = ContinuousClock()
            let start = clock.now
            let slow = try await FakeHTTP.send(url, json: ["model": "m-slow-300", "stream": false, "messages": [["role": "user", "content": "x"]]])
            #expect(slow.status == 200)
            #expect(clock.now - start >= .milliseconds(300))
            let streamStart = clock.now
            let spaced = try await FakeHTTP.send(url, json: ["model": "m-stream-delay", "messages": [["role": "user", "content": "a b c"]]])
            #expect(spaced.ndjson.count == 7)
            #expect(clock.now - streamStart >= .milliseconds(300))
        }
    }

    @Test("recording can be off, and keeps only the newest requests")
    func recorderBounds() async throws {
        try await FakeHTTP.withServer(record: false) { server in
            _ = try await FakeHTTP.get(server.baseURL(.ollama) + "/api/tags")
            #expect(await server.recorder.requests.isEmpty)
        }
        let recorder = FakeRequestRecorder(limit: 3)
        for index in 0..<5 {
            await recorder.record(RecordedRequest(provider: "openai", method: "GET", path: "/\(index)", query: "", headers: [:], body: Data()))
        }
        #expect(await recorder.requests.map(\.path) == ["/2", "/3", "/4"])
        #expect(await recorder.totalReceived == 5)
        await recorder.reset()
        #expect(await recorder.requests.isEmpty)
    }

    @Test("behaviour follows the documented order of name substrings")
    func behaviourOrder() {
        #expect(FakeBehavior(model: "drop-error-500", hasTools: false).outcome == .drop)
        #expect(FakeBehavior(model: "error-400-rate-limit", hasTools: false).outcome == .badRequest)
        #expect(FakeBehavior(model: "slow-tool", hasTools: true).outcome == .toolCall)
        #expect(FakeBehavior(model: "slow-tool", hasTools: true).delay == .milliseconds(1_500))
        #expect(FakeBehavior(model: "x-slow-250", hasTools: false).delay == .milliseconds(250))
        #expect(FakeBehavior(model: "fake-tool", hasTools: false).outcome == .echo)
        #expect(FakeBehavior(model: "gpt-4o", hasTools: true) == FakeBehavior(model: "gpt-4o", hasTools: false))
    }

    @Test("word pieces join back to the exact text", arguments: ["Echo from openai: hi", "Echo from x:  two  spaces ", "Echo from x: ", "one"])
    func wordPieces(text: String) {
        let pieces = FakeText.wordPieces(text)
        #expect(pieces.joined() == text)
        #expect(pieces.count == max(1, FakeText.wordCount(text)))
    }
}
