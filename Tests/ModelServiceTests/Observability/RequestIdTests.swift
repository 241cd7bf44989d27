import Foundation
import HummingbirdTesting
import Logging
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `X-Request-Id`: on every response (errors too), kept when well-formed, and the same id in logs and audit rows.
@Suite struct RequestIdTests {
    static func isGenerated(_ id: String?) -> Bool {
        guard let id, let uuid = UUID(uuidString: id) else { return false }
        return id == uuid.uuidString.lowercased()
    }

    @Test func everyResponseCarriesAnId() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL()) { client, _ in
            let ok = try await client.call(.get, "/api/health", token: nil)
            // The id is the point: on a loaded machine the health probe's 2 s database check may answer 503, with an id too.
            #expect(ok.status == .ok || ok.status == .serviceUnavailable)
            #expect(Self.isGenerated(ok.headers[.xRequestId]))
            let unauthorized = try await client.call(.get, "/api/models", token: nil)
            #expect(unauthorized.status == .unauthorized)
            #expect(Self.isGenerated(unauthorized.headers[.xRequestId]))
            let notFound = try await client.call(.get, "/no/such/route")
            #expect(notFound.status == .notFound)
            #expect(Self.isGenerated(notFound.headers[.xRequestId]))
            let badJSON = try await client.call(.post, "/api/models", json: "{not json")
            #expect(badJSON.status == .badRequest)
            #expect(Self.isGenerated(badJSON.headers[.xRequestId]))
            #expect(ok.headers[.xRequestId] != unauthorized.headers[.xRequestId])
        }
    }

    @Test func aWellFormedIncomingIdIsKeptAndAnyOtherReplaced() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL()) { client, _ in
            for kept in ["abc-123", "trace:0af7651916cd43dd.b7ad6b71_69", String(repeating: "a", count: 128)] {
                let response = try await client.call(.get, "/api/health", token: nil, headers: [.xRequestId: kept])
                #expect(response.headers[.xRequestId] == kept)
            }
            for replaced in ["has space", "semi;colon", "new\u{2028}line", String(repeating: "a", count: 129), "é"] {
                let response = try await client.call(.get, "/api/models", token: nil, headers: [.xRequestId: replaced])
                #expect(response.status == .unauthorized)
                #expect(Self.isGenerated(response.headers[.xRequestId]), "\(replaced) was not replaced")
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func auditRowsNameTheRequest(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, _ in
            let created = try await client.call(
                .post, "/api/api-keys", json: #"{"provider": "openai", "shared": true, "apiKey": "sk-audit-0123456789", "validate": false}"#,
                headers: [.xRequestId: "audit-request-1"])
            #expect(created.status == .created, "\(created.body)")
            let entries = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit").body)
            #expect(entries.first { $0.action == "create" }?.requestId == "audit-request-1")
        }
    }

    @Test func logLinesOfARequestCarryItsId() async throws {
        let capture = JSONLogCapture()
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), logger: capture.logger(level: .info)) { client, _ in
            _ = try await client.call(.get, "/api/models", headers: [.xRequestId: "log-request-42"])
        }
        let objects = capture.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let tagged = objects.filter { ($0["metadata"] as? [String: Any])?["request.id"] as? String == "log-request-42" }
        #expect(!tagged.isEmpty, "no log line carries the request id")
    }
}
