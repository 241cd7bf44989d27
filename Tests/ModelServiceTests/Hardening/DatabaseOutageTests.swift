import Foundation
import HummingbirdTesting
import Synchronization
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Health costs no connection per call; a PostgreSQL outage is answered with quick 503s while chats go on.
@Suite struct DatabaseOutageTests {
    @Test(arguments: TestDatabase.available)
    func aHealthFloodOpensAtMostAHandfulOfConnections(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"], live: true) { client, _ in
            let sampler = Sampler()
            let sessionsBefore = database == .postgres ? try await PostgresAdmin.sessionsOpened(url) : 0
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                if database == .postgres {
                    group.addTask {
                        while sampler.flooding {
                            sampler.note(try await PostgresAdmin.connectionCount(url))
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        return []
                    }
                }
                for _ in 0..<16 {
                    group.addTask {
                        var statuses: [Int] = []
                        for _ in 0..<25 {
                            statuses.append(Int(try await client.call(.get, "/api/health", token: nil).status.code))
                        }
                        return statuses
                    }
                }
                var all: [Int] = []
                var finished = 0
                while let statuses = try await group.next() {
                    all += statuses
                    if !statuses.isEmpty { finished += 1 }
                    if finished == 16 { sampler.stop() }
                }
                return all
            }
            #expect(statuses.count == 400)
            // No false outage under load.
            #expect(statuses.allSatisfy { $0 == 200 })
            #expect(sampler.most <= 5, "at most a handful of connections, saw \(sampler.most)")
            if database == .postgres {
                // Short-lived connections escape the sampler; the session count does not.
                try await Task.sleep(for: .seconds(2))
                let opened = try await PostgresAdmin.sessionsOpened(url) - sessionsBefore
                #expect(opened <= 5, "the flood opened \(opened) connections")
            }
        }
    }

    /// The time limit only catches a hang: the whole suite in parallel on two cores has taken this test past 3 minutes.
    @Test(.timeLimit(.minutes(10)), arguments: TestDatabase.available.filter { $0 == .postgres })
    func anOutageIsAnsweredWithFast503sWhileChatsGoOnAndEveryRecordLands(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        do {
            try await GatewayHarness.run(databaseURL: url, extra: ["DATABASE_TIMEOUT_SECONDS": "2"]) { client, _, components in
                let chat = GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false)
                for _ in 0..<3 { #expect(try await client.call(.post, "/v1/chat/completions", json: chat).status == .ok) }
                #expect(try await client.call(.get, "/api/usage").status == .ok)

                try await PostgresAdmin.cut(url)
                for path in ["/api/usage", "/api/audit"] {
                    let answer = try await client.call(.get, path)
                    #expect(answer.status == .serviceUnavailable, "\(path): \(answer.body)")
                    #expect((try? decodeJSON(ErrorBody.self, answer.body))?.error.code == "database_unavailable")
                }
                #expect(try await client.call(.get, "/api/health", token: nil).status == .serviceUnavailable)
                // Chats are served from memory: the registry, tokens and keys need no database.
                for _ in 0..<5 {
                    #expect(try await client.call(.post, "/v1/chat/completions", json: chat).status == .ok)
                    #expect(try await client.call(
                        .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.anthropic), stream: true)
                    ).status == .ok)
                }

                try await PostgresAdmin.restore(url)
                let landed = try await eventually(timeout: .seconds(90)) {
                    let count = try? await components.database.run {
                        try await $0.raw("SELECT COUNT(*) AS n FROM usage_records").first()?.decode(column: "n", as: Int.self)
                    }
                    return count == 13
                }
                #expect(landed != nil, "every usage record lands after the database returns")
                #expect(try await client.call(.get, "/api/usage").status == .ok)
            }
        } catch {
            try? await PostgresAdmin.restore(url)
            throw error
        }
    }
}

/// The most connections seen while a flood runs.
private final class Sampler: Sendable {
    private let state = Mutex((most: 0, flooding: true))
    var most: Int { state.withLock { $0.most } }
    var flooding: Bool { state.withLock { $0.flooding } }
    func note(_ open: Int) { state.withLock { $0.most = max($0.most, open) } }
    func stop() { state.withLock { $0.flooding = false } }
}
