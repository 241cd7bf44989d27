import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// NUL, other control characters and byte-heavy strings are 400s naming the field, on every
/// `/api` body field and query parameter (issue 11, finding 2).
@Suite struct InputValidationTests {
    static let marks = "a" + String(repeating: "\u{0301}", count: 5_000)

    @Test func theHelperCountsBytesAndRefusesControls() throws {
        #expect(Self.marks.count == 1)
        #expect(throws: ServiceError.self) { try TextInput.check(Self.marks, field: "name") }
        #expect(throws: ServiceError.self) { try TextInput.check("a\u{0}b", field: "name") }
        #expect(throws: ServiceError.self) { try TextInput.check("a\u{1B}[31m", field: "name") }
        #expect(throws: ServiceError.self) { try TextInput.check("a\u{85}", field: "name") }
        #expect(throws: ServiceError.self) { try TextInput.check("line\nbreak", field: "name") }
        #expect(try TextInput.check("line\nbreak", field: "description", allowLineBreaks: true) == "line\nbreak")
        #expect(try TextInput.check("Zoë 東京 🚀", field: "name") == "Zoë 東京 🚀")
        do {
            try TextInput.check("x\u{0}", field: "keyName")
        } catch {
            #expect(error.status == 400 && error.message.hasPrefix("keyName:"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func nulInBodiesAndQueriesIsA400NamingTheField(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: VaultAPI.environment(fakes: nil)) { client, _ in
            let bodies: [(String, String, String)] = [
                ("/api/api-keys?skipValidation=true", #"{"userId": "al\u0000ice", "provider": "openai", "apiKey": "sk-0123456789abcdef"}"#, "userId"),
                ("/api/api-keys?skipValidation=true", #"{"userId": "alice", "provider": "openai", "keyName": "k\u0000", "apiKey": "sk-0123456789abcdef"}"#, "keyName"),
                ("/api/tokens", #"{"role": "admin", "name": "n\u0000"}"#, "name"),
                ("/api/tokens", #"{"role": "user", "userId": "u\u0000"}"#, "userId"),
                ("/api/models", #"{"name": "m\u0000", "provider": "openai", "modelId": "x"}"#, "name"),
                ("/api/models", #"{"name": "m", "provider": "openai\u0000", "modelId": "x"}"#, "provider"),
                ("/api/models", #"{"name": "\#(Self.marks)", "provider": "openai", "modelId": "x"}"#, "name"),
                ("/api/tokens", #"{"role": "admin", "name": "\#(Self.marks)"}"#, "name"),
            ]
            for (path, body, field) in bodies {
                let answer = try await client.call(.post, path, json: body)
                #expect(answer.status == .badRequest, "\(path) \(field): \(answer.status) \(answer.body)")
                let error = try decodeJSON(ErrorBody.self, answer.body).error
                #expect(error.message.hasPrefix("\(field):"), "\(error.message)")
            }
            let queries: [(String, String)] = [
                ("/api/api-keys?userId=al%00ice", "userId"), ("/api/api-keys?provider=%00", "provider"), ("/api/usage?userId=%00", "userId"),
                ("/api/models?provider=open%00ai", "provider"), ("/api/audit?keyId=k%00", "keyId"), ("/api/usage?groupBy=%1B", "groupBy"),
                ("/api/models/gpt%00x", "path"),
            ]
            for (path, field) in queries {
                let answer = try await client.call(.get, path)
                #expect(answer.status == .badRequest, "\(path): \(answer.status) \(answer.body)")
                #expect(try decodeJSON(ErrorBody.self, answer.body).error.message.hasPrefix("\(field):"), "\(answer.body)")
            }
        }
    }
}
