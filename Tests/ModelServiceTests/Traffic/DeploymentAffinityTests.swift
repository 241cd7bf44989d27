import FakeProviders
import Foundation
import HTTPTypes
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Prompt-cache affinity: one conversation stays on one deployment while it is healthy, moves when it fails,
/// and different conversations still spread over every deployment.
@Suite struct DeploymentAffinityTests {
    @Test func aConversationStaysOnOneDeploymentWhileItIsHealthy() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, _ in
            let model = try await DeploymentTest.model(
                client, name: "affinity/stay", upstreams: ["fake-echo-a", "fake-echo-b", "fake-echo-c"], affinity: true)
            var seen: [String: Int] = [:]
            // Forty turns of one conversation: each call re-sends the history, longer every time.
            for turn in 0..<40 {
                let answer = try await DeploymentTest.chat(client, model: model.name, conversation: "Plan my week", turns: turn)
                #expect(answer.status == .ok, "\(answer.body)")
                seen[answer.deployment ?? "none", default: 0] += 1
            }
            let most = seen.values.max() ?? 0
            #expect(most * 100 >= 95 * 40, "\(seen)")
        }
    }

    @Test func withoutAffinityAConversationIsSpread() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, _ in
            let model = try await DeploymentTest.model(
                client, name: "affinity/off", upstreams: ["fake-echo-a", "fake-echo-b", "fake-echo-c"], affinity: false)
            var seen: Set<String> = []
            for turn in 0..<30 { seen.insert(try await DeploymentTest.chat(client, model: model.name, conversation: "Plan", turns: turn).deployment ?? "") }
            #expect(seen.count == 3)
        }
    }

    @Test func aConversationMovesWhenItsDeploymentFailsAndSticksToTheNewOne() async throws {
        var environment = TrafficTest.environment
        environment["CIRCUIT_FAILURES"] = "100"
        try await GatewayHarness.run(extra: environment) { client, fakes, components in
            let model = try await DeploymentTest.model(
                client, name: "affinity/move", upstreams: ["fake-echo-a", "fake-echo-b", "fake-echo-c"], affinity: true)
            let first = try #require(try await DeploymentTest.chat(client, model: model.name, conversation: "Long task").deployment)
            for turn in 1..<5 { #expect(try await DeploymentTest.chat(client, model: model.name, conversation: "Long task", turns: turn).deployment == first) }
            // Its deployment starts failing (500 on every call).
            let registryModel = try #require(components.registry.model(named: model.name))
            let broken = try await client.call(.patch, "/api/models/\(registryModel.id)/deployments/\(first)", json: #"{"modelId": "fake-error-500"}"#)
            #expect(broken.status == .ok, "\(broken.body)")
            let moved = try await DeploymentTest.chat(client, model: model.name, conversation: "Long task", turns: 5)
            #expect(moved.status == .ok, "\(moved.body)")
            let second = try #require(moved.deployment)
            #expect(second != first)
            let failedBefore = await TrafficTest.upstreamCalls(fakes, model: "fake-error-500")
            for turn in 6..<16 {
                let answer = try await DeploymentTest.chat(client, model: model.name, conversation: "Long task", turns: turn)
                #expect(answer.status == .ok && answer.deployment == second, "\(answer.body)")
            }
            // It sticks to the new deployment: the failing one is not tried first again.
            #expect(await TrafficTest.upstreamCalls(fakes, model: "fake-error-500") == failedBefore)
        }
    }

    @Test func aHundredConversationsSpreadOverAllThree() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, _ in
            let model = try await DeploymentTest.model(
                client, name: "affinity/spread", upstreams: ["fake-echo-a", "fake-echo-b", "fake-echo-c"], affinity: true)
            let shares = try await DeploymentTest.shares(client, model: model.name, count: 100, concurrency: 4) { "Conversation number \($0)" }
            for id in model.deployments { #expect((shares[id] ?? 0) >= 15, "\(shares)") }
        }
    }

    /// The key ignores what changes from turn to turn, and tells apart what differs between conversations.
    @Test func theConversationKeyReadsTheStablePrefixOfEachDoor() throws {
        func key(_ json: String, caller: String = "u1") -> Int? { ConversationKey.of(ByteBuffer(string: json), caller: caller) }
        let turn1 = #"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"Q1"}]}"#
        let turn2 = #"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"Q1"},{"role":"assistant","content":"A"},{"role":"user","content":"Q2"}],"max_tokens":9}"#
        let other = #"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"Other"}]}"#
        #expect(key(turn1) != nil && key(turn1) == key(turn2))
        #expect(key(turn1) != key(other))
        #expect(key(turn1) != key(turn1, caller: "u2"))
        // Anthropic's Messages: `system` beside the messages; the first message alone tells conversations apart.
        let messages1 = #"{"system":"S","messages":[{"role":"user","content":"Q1"}]}"#
        let messages2 = #"{"system":"S","messages":[{"role":"user","content":"Q1"},{"role":"assistant","content":"A"},{"role":"user","content":"Q2"}]}"#
        #expect(key(messages1) == key(messages2))
        // The client's own key wins: Claude Code's session in metadata.user_id, OpenAI's prompt_cache_key.
        let session1 = #"{"metadata":{"user_id":"session-1"},"messages":[{"role":"user","content":"Q1"}]}"#
        let session2 = #"{"metadata":{"user_id":"session-2"},"messages":[{"role":"user","content":"Q1"}]}"#
        #expect(key(session1) != key(session2))
        let cacheKey = #"{"prompt_cache_key":"k","messages":[{"role":"user","content":"Different"}]}"#
        #expect(key(cacheKey) == key(#"{"prompt_cache_key":"k","messages":[{"role":"user","content":"Q1"}]}"#))
        #expect(key(#"{"model":"m"}"#) == nil && key("not json") == nil)
    }
}
