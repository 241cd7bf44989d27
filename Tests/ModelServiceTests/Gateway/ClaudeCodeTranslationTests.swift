import FakeProviders
import Foundation
import HTTPTypes
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// What Claude Code sends for a model of another provider, translated so that provider takes it: a
/// mid-conversation system message, a `max_tokens` past the model's output limit, `thinking`, and members
/// only Anthropic knows. Over real HTTP to the fake providers, checked on the bytes the upstream received.
@Suite struct ClaudeCodeTranslationTests {
    static func conversation(model: String, stream: Bool = false, extra: String = "") -> String {
        """
        {"model": "\(model)", "max_tokens": 100, "stream": \(stream), "system": "You are terse.",
         "messages": [{"role": "user", "content": "Hello there"},
                      {"role": "system", "content": [{"type": "text", "text": "Reminder: answer in English."}]},
                      {"role": "assistant", "content": "Hi."},
                      {"role": "user", "content": "Again"}]\(extra)}
        """
    }

    @Test func aMidConversationSystemMessageStaysInPlaceForOpenAIAndJoinsGeminisSystemInstruction() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            for stream in [false, true] {
                let answer = try await client.call(.post, "/v1/messages", json: Self.conversation(model: GatewayHarness.modelName(.openai), stream: stream))
                #expect(answer.status == .ok, "\(answer.body)")
                let upstream = try #require(await fakes.recorder.last(provider: .openai)?.bodyObject)
                let messages = try #require(upstream["messages"] as? [[String: Any]])
                #expect(messages.map { $0["role"] as? String } == ["system", "user", "system", "assistant", "user"])
                #expect(messages[2]["content"] as? String == "Reminder: answer in English.")
            }

            let gemini = try await client.call(.post, "/v1/messages", json: Self.conversation(model: GatewayHarness.modelName(.gemini)))
            #expect(gemini.status == .ok, "\(gemini.body)")
            let upstream = try #require(await fakes.recorder.last(provider: .gemini)?.bodyObject)
            let instruction = ((upstream["systemInstruction"] as? [String: Any])?["parts"] as? [[String: Any]])?.first?["text"] as? String
            #expect(instruction?.contains("You are terse.") == true && instruction?.contains("Reminder: answer in English.") == true, "\(upstream)")
            let roles = (upstream["contents"] as? [[String: Any]])?.map { $0["role"] as? String }
            #expect(roles == ["user", "model", "user"], "\(upstream)")

            // A system message that is not text is a 400 naming the field, in Anthropic's shape.
            let bad = #"{"model": "\#(GatewayHarness.modelName(.openai))", "max_tokens": 10, "messages": [{"role": "user", "content": "a"}, {"role": "system", "content": 5}]}"#
            let refused = try await client.call(.post, "/v1/messages", json: bad)
            #expect(refused.status == .badRequest && refused.body.contains("messages[1].content"), "\(refused.body)")
        }
    }

    /// Claude Code asks for 32,000 output tokens; the catalog gives `gpt-4o-mini` 16,384, and OpenAI refuses more.
    @Test func claudeCodesMaxTokensIsLoweredToTheCatalogsOutputLimit() async throws {
        try await GatewayHarness.run(extra: ["SEED_ON_START": "true"]) { client, fakes, _ in
            for stream in [false, true] {
                let body = #"{"model": "openai/gpt-4o-mini", "max_tokens": 32000, "stream": \#(stream), "messages": [{"role": "user", "content": "hi"}]}"#
                let answer = try await client.call(.post, "/v1/messages", json: body)
                #expect(answer.status == .ok, "\(answer.body)")
                let upstream = try #require(await fakes.recorder.last(provider: .openai)?.bodyObject)
                #expect(upstream["model"] as? String == "gpt-4o-mini")
                #expect(upstream["max_tokens"] as? Int == 16_384, "\(upstream)")
            }
        }
    }

    @Test func thinkingBecomesAReasoningEffortOrAThinkingBudgetOnlyForReasoningModels() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let openAI = GatewayHarness.modelName(.openai)
            let gemini = GatewayHarness.modelName(.gemini)
            let thinking = #", "thinking": {"type": "enabled", "budget_tokens": 10000}"#
            // Not a reasoning model: neither field reaches the provider, which would refuse it.
            _ = try await client.call(.post, "/v1/messages", json: Self.conversation(model: openAI, extra: thinking))
            #expect(try #require(await fakes.recorder.last(provider: .openai)?.bodyObject)["reasoning_effort"] == nil)
            _ = try await client.call(.post, "/v1/messages", json: Self.conversation(model: gemini, extra: thinking))
            let plainGemini = try #require(await fakes.recorder.last(provider: .gemini)?.bodyObject)
            #expect((plainGemini["generationConfig"] as? [String: Any])?["thinkingConfig"] == nil, "\(plainGemini)")

            for model in [openAI, gemini] {
                let patched = try await client.call(.patch, "/api/models/\(model)", json: #"{"providerSettings": {"reasoning": true}}"#)
                #expect(patched.status == .ok, "\(patched.body)")
            }
            for (budget, effort) in [(1_024, "low"), (10_000, "medium"), (20_000, "high")] {
                let extra = #", "thinking": {"type": "enabled", "budget_tokens": \#(budget)}"#
                let answer = try await client.call(.post, "/v1/messages", json: Self.conversation(model: openAI, extra: extra))
                #expect(answer.status == .ok, "\(answer.body)")
                #expect(try #require(await fakes.recorder.last(provider: .openai)?.bodyObject)["reasoning_effort"] as? String == effort)
            }
            _ = try await client.call(.post, "/v1/messages", json: Self.conversation(model: gemini, extra: thinking))
            let config = try #require(await fakes.recorder.last(provider: .gemini)?.bodyObject)["generationConfig"] as? [String: Any]
            let thinkingConfig = config?["thinkingConfig"] as? [String: Any]
            #expect(thinkingConfig?["thinkingBudget"] as? Int == 10_000 && thinkingConfig?["includeThoughts"] as? Bool == true, "\(config ?? [:])")
            // An OpenAI client's effort reaches Gemini as its documented budget.
            let effort = GatewayHarness.chatBody(model: gemini, stream: false, extra: #", "reasoning_effort": "high""#)
            #expect(try await client.call(.post, "/v1/chat/completions", json: effort).status == .ok)
            let fromEffort = try #require(await fakes.recorder.last(provider: .gemini)?.bodyObject)["generationConfig"] as? [String: Any]
            #expect((fromEffort?["thinkingConfig"] as? [String: Any])?["thinkingBudget"] as? Int == 24_576, "\(fromEffort ?? [:])")
        }
    }

    @Test func membersOnlyAnthropicKnowsAreLeftOutForOtherProvidersAndRelayedToAnthropic() async throws {
        try await GatewayHarness.run { client, fakes, _ in
            let extra =
                #", "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}, "output_config": {"effort": "high"}, "#
                + #""service_tier": "auto""#
            let beta: HTTPFields = [HTTPField.Name("anthropic-beta")!: "context-management-2025-06-27,some-future-beta"]
            let translated = try await client.call(
                .post, "/v1/messages", json: Self.conversation(model: GatewayHarness.modelName(.openai), extra: extra), headers: beta)
            #expect(translated.status == .ok, "\(translated.body)")
            let openAI = try #require(await fakes.recorder.last(provider: .openai))
            for member in ["context_management", "output_config", "service_tier"] { #expect(openAI.bodyObject?[member] == nil, "\(member)") }
            #expect(openAI.headers["anthropic-beta"] == nil)

            let relayed = try await client.call(
                .post, "/v1/messages", json: Self.conversation(model: GatewayHarness.modelName(.anthropic), extra: extra), headers: beta)
            #expect(relayed.status == .ok, "\(relayed.body)")
            let anthropic = try #require(await fakes.recorder.last(provider: .anthropic))
            #expect(anthropic.bodyObject?["context_management"] != nil && anthropic.bodyObject?["output_config"] != nil)
            #expect(anthropic.headers["anthropic-beta"] == "context-management-2025-06-27,some-future-beta")
            let messages = anthropic.bodyObject?["messages"] as? [[String: Any]]
            #expect(messages?[1]["role"] as? String == "system", "Anthropic gets its mid-conversation system message as sent")
        }
    }
}
