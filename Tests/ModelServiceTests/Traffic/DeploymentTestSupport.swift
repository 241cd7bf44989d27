import AsyncHTTPClient
import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Models with several deployments on the fake providers, and calls that say which deployment answered.
enum DeploymentTest {
    struct Created {
        var name: String
        /// Deployment ids in the order of the upstreams given.
        var deployments: [String]
    }

    /// A model whose deployments call `upstreams` (fake model names, which pick the fake's behaviour) with `weights`.
    static func model(
        _ client: any TestClientProtocol, name: String, upstreams: [String], weights: [Int]? = nil, strategy: String = "weighted",
        affinity: Bool = false, fallbacks: [String] = []
    ) async throws -> Created {
        let list = fallbacks.map { "\"\($0)\"" }.joined(separator: ",")
        let created = try await client.call(.post, "/api/models", json: """
            {"name": "\(name)", "provider": "openai", "modelId": "\(upstreams[0])", "maxTokens": 300,
             "inputCostPer1kTokens": 1.5, "outputCostPer1kTokens": 2, "fallbacks": [\(list)],
             "routing": {"strategy": "\(strategy)", "promptCacheAffinity": \(affinity)}}
            """)
        #expect(created.status == .created, "\(created.body)")
        let modelId = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])["id"] as? String ?? ""
        let primary = "dep_" + modelId
        let weights = weights ?? upstreams.map { _ in 1 }
        if weights[0] != 1 {
            let patched = try await client.call(.patch, "/api/models/\(modelId)/deployments/\(primary)", json: #"{"weight": \#(weights[0])}"#)
            #expect(patched.status == .ok, "\(patched.body)")
        }
        var ids = [primary]
        for (upstream, weight) in zip(upstreams.dropFirst(), weights.dropFirst()) {
            let added = try await client.call(.post, "/api/models/\(modelId)/deployments", json: #"{"modelId": "\#(upstream)", "weight": \#(weight)}"#)
            #expect(added.status == .created, "\(added.body)")
            ids.append(try #require(try JSONSerialization.jsonObject(with: Data(added.body.utf8)) as? [String: Any])["id"] as? String ?? "")
        }
        return Created(name: name, deployments: ids)
    }

    struct Answer {
        var status: HTTPResponse.Status
        var model: String?
        var deployment: String?
        var body: String
    }

    /// A chat whose conversation is `conversation` (its first user message) with `turns` more messages after it.
    static func chat(_ client: any TestClientProtocol, model: String, conversation: String = "Hello there", turns: Int = 0) async throws -> Answer {
        try await chat(port: try #require(client.port), model: model, conversation: conversation, turns: turns)
    }

    static func chat(port: Int, model: String, conversation: String = "Hello there", turns: Int = 0) async throws -> Answer {
        var messages = [#"{"role": "system", "content": "You are terse."}"#, #"{"role": "user", "content": "\#(conversation)"}"#]
        for turn in 0..<turns {
            messages.append(#"{"role": "assistant", "content": "Answer \#(turn)"}"#)
            messages.append(#"{"role": "user", "content": "Question \#(turn + 1)"}"#)
        }
        let body = #"{"model": "\#(model)", "max_tokens": 5, "messages": [\#(messages.joined(separator: ","))]}"#
        // Straight to the port with the shared HTTP client: the test client sends one request at a time.
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(TestApp.adminToken)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await Self.execute(request)
        let answer = try await response.body.collect(upTo: 1 << 20)
        return Answer(
            status: HTTPResponse.Status(code: Int(response.status.code)), model: response.headers.first(name: "X-Model-Service-Model"),
            deployment: response.headers.first(name: "X-Model-Service-Deployment"), body: String(buffer: answer))
    }

    /// `/metrics` on a connection of the shared client: after thousands of calls the test client's one kept-alive
    /// connection, idle all along, may have been closed on a loaded machine.
    static func metrics(port: Int) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics")
        request.headers.add(name: "authorization", value: "Bearer \(TestApp.adminToken)")
        let response = try await Self.execute(request)
        return String(buffer: try await response.body.collect(upTo: 8 << 20))
    }

    /// Sends `request`, again when the pooled connection it went out on turns out closed: the shared client keeps
    /// connections of servers earlier tests stopped, and a loaded machine notices their closing late. Such a
    /// request never reached the gateway, so sending it again counts nothing twice.
    private static func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        var tries = 0
        while true {
            tries += 1
            do {
                return try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            } catch let error as ChannelError where error == .ioOnClosedChannel && tries < 3 {
                continue
            } catch let error as HTTPClientError where error == .remoteConnectionClosed && tries < 3 {
                continue
            }
        }
    }

    /// `count` calls, `concurrency` at a time; returns how many each deployment answered.
    static func shares(_ client: any TestClientProtocol, model: String, count: Int, concurrency: Int = 8, conversation: @escaping @Sendable (Int) -> String = { _ in "Hello there" }) async throws -> [String: Int] {
        try await withThrowingTaskGroup(of: [String: Int].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var seen: [String: Int] = [:]
                    for index in stride(from: worker, to: count, by: concurrency) {
                        let answer = try await chat(client, model: model, conversation: conversation(index))
                        #expect(answer.status == .ok, "\(answer.body)")
                        seen[answer.deployment ?? "none", default: 0] += 1
                    }
                    return seen
                }
            }
            return try await group.reduce(into: [:]) { total, part in total.merge(part, uniquingKeysWith: +) }
        }
    }
}
