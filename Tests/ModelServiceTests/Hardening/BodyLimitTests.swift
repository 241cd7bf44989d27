import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Request bodies are bounded per route group and in total; deep JSON is refused before decoding.
@Suite struct BodyLimitTests {
    @Test func aTwoMegabyteAPIBodyIsRefusedWith413() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"], live: true) { client, _ in
            let padding = String(repeating: "a", count: 2 * 1024 * 1024)
            let answer = try await client.call(.post, "/api/models", json: #"{"name": "big", "description": "\#(padding)"}"#)
            #expect(answer.status == .contentTooLarge)
            let error = try decodeJSON(ErrorBody.self, answer.body)
            #expect(error.error.code == "payload_too_large" && error.error.message.contains("\(1024 * 1024)"))
        }
    }

    @Test func aBodyWithoutLengthIsCutAtTheLimit() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false", "MAX_API_BODY_BYTES": "1000"]) { client, _ in
            let padding = String(repeating: "a", count: 5000)
            // Streamed without Content-Length: the limit applies while collecting.
            let body = ByteBuffer(string: #"{"name": "big", "description": "\#(padding)"}"#)
            let status = try await client.execute(
                uri: "/api/models", method: .post,
                headers: [.authorization: "Bearer \(TestApp.adminToken)", .contentType: "application/json", .transferEncoding: "chunked"],
                body: body
            ) { $0.status }
            #expect(status == .contentTooLarge)
        }
    }

    @Test func deepJSONIsRefusedBeforeDecoding() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"]) { client, _ in
            let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
            for path in ["/api/models", "/v1/chat/completions"] {
                let answer = try await client.call(.post, path, json: #"{"metadata": \#(deep)}"#)
                #expect(answer.status == .badRequest)
                let error = try decodeJSON(ErrorBody.self, answer.body)
                #expect(error.error.code == "json_too_deep" && error.error.message.contains("128"))
            }
            // Brackets inside strings are text, not nesting.
            #expect(throws: Never.self) { try JSONBody.checkNesting(Array(#"{"a": "\#(deep)\"[[["}"#.utf8)) }
            #expect(throws: ServiceError.self) { try JSONBody.checkNesting(Array((String(repeating: "{\"a\":", count: 129) + "1" + String(repeating: "}", count: 129)).utf8)) }
        }
    }

    @Test func modelMetadataAndProviderSettingsAreCapped() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false"]) { client, _ in
            let large = String(repeating: "m", count: 70 * 1024)
            for field in ["metadata", "providerSettings"] {
                let answer = try await client.call(
                    .post, "/api/models",
                    json: #"{"name": "capped-\#(field)", "provider": "openai", "modelId": "gpt-4o", "\#(field)": {"note": "\#(large)"}}"#)
                #expect(answer.status == .badRequest)
                #expect(try decodeJSON(ErrorBody.self, answer.body).error.message.hasPrefix(field))
            }
            let small = try await client.call(
                .post, "/api/models", json: #"{"name": "small", "provider": "openai", "modelId": "gpt-4o", "metadata": {"note": "fine"}}"#)
            #expect(small.status == .created)
        }
    }

    @Test func bodiesInFlightPastTheBudgetGet503() async throws {
        let budget = InflightBodyBudget(capacity: 1000)
        #expect(budget.reserve(600))
        #expect(!budget.reserve(600))
        budget.release(600)
        #expect(budget.reserve(600) && budget.inUse == 600)

        let url = try await TestDatabase.sqlite.makeURL()
        // A budget smaller than one body: every request with a body is turned away, bodiless ones are not.
        try await TestApp.run(databaseURL: url, extra: ["SEED_ON_START": "false", "MAX_INFLIGHT_BODY_BYTES": "10"], live: true) { client, _ in
            let answer = try await client.call(.post, "/api/tokens", json: #"{"role": "service"}"#)
            #expect(answer.status == .serviceUnavailable)
            #expect(try decodeJSON(ErrorBody.self, answer.body).error.code == "server_busy")
            #expect(answer.headers[.retryAfter] == "1")
            #expect(try await client.call(.get, "/api/models").status == .ok)
        }
    }
}
