import Foundation
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `/api/models`: create, read, filter, update, delete and every client error, on both databases.
@Suite struct ModelAPITests {
    static let sampleBody = """
        {
          "name": "gpt-4-turbo",
          "provider": "OPENAI",
          "modelId": "gpt-4-turbo-preview",
          "maxTokens": 128000,
          "defaultTemperature": 0.7,
          "isDefault": true
        }
        """

    @Test(arguments: TestDatabase.available)
    func seedExampleBodyCreatesAModel(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            let created = try await client.call(.post, "/api/models", json: Self.sampleBody)
            #expect(created.status == .created)
            let model = try decodeJSON(Model.self, created.body)
            #expect(model.name == "gpt-4-turbo")
            #expect(model.provider == .openai)
            #expect(created.body.contains("\"provider\":\"openai\""))
            #expect(model.modelId == "gpt-4-turbo-preview")
            #expect(model.maxTokens == 128000)
            #expect(model.defaultTemperature == 0.7)
            #expect(model.isDefault && model.isActive && model.supportsStreaming)
            #expect(model.apiKeyEnvVar == "OPENAI_API_KEY")

            let byId = try await client.call(.get, "/api/models/\(model.id)")
            #expect(byId.status == .ok)
            #expect(try decodeJSON(Model.self, byId.body) == model)
            let byName = try await client.call(.get, "/api/models/gpt-4-turbo")
            #expect(try decodeJSON(Model.self, byName.body).id == model.id)
        }
    }

    @Test(arguments: TestDatabase.available)
    func listFiltersReadsAndNamesWithSlashes(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, _ in
            let all = try decodeJSON([Model].self, try await client.call(.get, "/api/models").body)
            #expect(all.count >= 14)
            let anthropic = try decodeJSON([Model].self, try await client.call(.get, "/api/models?provider=ANTHROPIC").body)
            #expect(!anthropic.isEmpty && anthropic.allSatisfy { $0.provider == .anthropic })

            let raw = try await client.call(.get, "/api/models/openai/gpt-4o-mini")
            #expect(raw.status == .ok)
            let encoded = try await client.call(.get, "/api/models/openai%2Fgpt-4o-mini")
            #expect(try decodeJSON(Model.self, raw.body) == decodeJSON(Model.self, encoded.body))

            let patched = try await client.call(.patch, "/api/models/openai/gpt-4o-mini", json: #"{"isActive": false}"#)
            #expect(patched.status == .ok)
            let inactive = try decodeJSON([Model].self, try await client.call(.get, "/api/models?isActive=false").body)
            #expect(inactive.map(\.name) == ["openai/gpt-4o-mini"])
            let active = try decodeJSON([Model].self, try await client.call(.get, "/api/models?isActive=true").body)
            #expect(active.count == all.count - 1)

            let bad = try await client.call(.get, "/api/models?provider=acme")
            #expect(bad.status == .badRequest)
            #expect(bad.body.contains("openai, anthropic, gemini, azure, ollama, xai, deepseek"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func patchChangesOnlyWhatItNamesAndDeleteRemoves(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            let model = try decodeJSON(Model.self, try await client.call(.post, "/api/models", json: Self.sampleBody).body)
            let patch = #"{"description": "Turbo", "inputCostPer1kTokens": 0.01, "rateLimitPerMinute": 60, "providerSettings": {"baseURL": "http://127.0.0.1:1/v1"}, "metadata": {"tier": "gold"}}"#
            let patched = try decodeJSON(Model.self, try await client.call(.patch, "/api/models/\(model.id)", json: patch).body)
            #expect(patched.description == "Turbo")
            #expect(patched.inputCostPer1kTokens == 0.01)
            #expect(patched.rateLimitPerMinute == 60)
            #expect(patched.providerSettings["baseURL"] == .string("http://127.0.0.1:1/v1"))
            #expect(patched.metadata["tier"] == .string("gold"))
            #expect(patched.maxTokens == 128000 && patched.modelId == model.modelId && patched.isDefault)

            let cleared = try decodeJSON(Model.self, try await client.call(.patch, "/api/models/\(model.id)", json: #"{"description": null}"#).body)
            #expect(cleared.description == nil && cleared.rateLimitPerMinute == 60)

            #expect(try await client.call(.delete, "/api/models/\(model.id)").status == .noContent)
            #expect(try await client.call(.get, "/api/models/\(model.id)").status == .notFound)
            #expect(try await client.call(.delete, "/api/models/\(model.id)").status == .notFound)
        }
    }

    @Test(arguments: TestDatabase.available)
    func clientMistakesAreFourHundredsThatNameTheField(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            let cases: [(String, String)] = [
                (#"{"provider": "openai", "modelId": "x"}"#, "name"),
                (#"{"name": "a", "provider": "acme", "modelId": "x"}"#, "provider"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "maxTokens": 0}"#, "maxTokens"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "maxTokens": "many"}"#, "maxTokens"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "defaultTemperature": 2.5}"#, "defaultTemperature"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "inputCostPer1kTokens": -1}"#, "inputCostPer1kTokens"),
                (#"{"name": "  ", "provider": "openai", "modelId": "x"}"#, "name"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "metadata": [1]}"#, "metadata"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "apiKeyEnvVar": "not valid"}"#, "apiKeyEnvVar"),
                (#"{"name": "a", "provider": "openai", "modelId": "x", "isActive": "yes"}"#, "isActive"),
            ]
            for (body, field) in cases {
                let response = try await client.call(.post, "/api/models", json: body)
                #expect(response.status == .badRequest, "\(body)")
                let error = try decodeJSON(ErrorBody.self, response.body)
                #expect(error.error.message.hasPrefix(field), "\(body) → \(error.error.message)")
            }
            let notJSON = try await client.call(.post, "/api/models", json: "{nope")
            #expect(notJSON.status == .badRequest)
            #expect(try decodeJSON(ErrorBody.self, notJSON.body).error.code == "invalid_json")

            #expect(try await client.call(.post, "/api/models", json: Self.sampleBody).status == .created)
            let duplicate = try await client.call(.post, "/api/models", json: Self.sampleBody)
            #expect(duplicate.status == .conflict)
            #expect(try decodeJSON(ErrorBody.self, duplicate.body).error.code == "conflict")

            #expect(try await client.call(.get, "/api/models/no-such-model").status == .notFound)
            #expect(try await client.call(.patch, "/api/models/no-such-model", json: "{}").status == .notFound)
            let nullName = try await client.call(.patch, "/api/models/gpt-4-turbo", json: #"{"name": null}"#)
            #expect(nullName.status == .badRequest)
            let unknownRoute = try await client.call(.get, "/api/nothing-here")
            #expect(unknownRoute.status == .notFound)
            #expect(try decodeJSON(ErrorBody.self, unknownRoute.body).error.code == "not_found")
        }
    }

    @Test(arguments: TestDatabase.available)
    func oneDefaultPerProvider(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            func create(_ name: String, provider: String, isDefault: Bool) async throws -> Model {
                let body = #"{"name": "\#(name)", "provider": "\#(provider)", "modelId": "m", "isDefault": \#(isDefault)}"#
                return try decodeJSON(Model.self, try await client.call(.post, "/api/models", json: body).body)
            }
            let first = try await create("a", provider: "openai", isDefault: true)
            let other = try await create("c", provider: "anthropic", isDefault: true)
            let second = try await create("b", provider: "OpenAI", isDefault: true)
            func defaults() async throws -> [String] {
                try decodeJSON([Model].self, try await client.call(.get, "/api/models").body).filter(\.isDefault).map(\.name).sorted()
            }
            #expect(try await defaults() == ["b", "c"])
            _ = try await client.call(.patch, "/api/models/\(first.id)", json: #"{"isDefault": true}"#)
            #expect(try await defaults() == ["a", "c"])
            // Moving a default to another provider takes that provider's default.
            _ = try await client.call(.patch, "/api/models/\(first.id)", json: #"{"provider": "anthropic"}"#)
            #expect(try await defaults() == ["a"])
            let stats = try decodeJSON(ModelStats.self, try await client.call(.get, "/api/models/stats").body)
            #expect(stats.total == 3 && stats.defaults == 1 && stats.byProvider["anthropic"]?.defaultModel == "a")
            _ = (other, second)
        }
    }

    /// The lists are joined from each model's JSON kept between calls: every change shows in the next list,
    /// for admins and for the public view alike, and the bytes are what encoding the whole list gives.
    @Test func theModelListsFollowEveryChange() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            for index in 0..<3 {
                #expect(try await client.call(.post, "/api/models", json: #"{"name": "list/m\#(index)", "provider": "openai", "modelId": "m\#(index)"}"#).status == .created)
            }
            let user = try await ConsoleSecurityTests.userToken(client, userId: "lu")
            _ = try await client.call(.get, "/api/models")
            _ = try await client.call(.get, "/api/models", token: user)
            _ = try await client.call(.get, "/v1/models")
            #expect(try await client.call(.patch, "/api/models/list/m1", json: #"{"name": "list/renamed", "maxTokens": 55}"#).status == .ok)
            #expect(try await client.call(.delete, "/api/models/list/m2").status == .noContent)
            let admin = try await client.call(.get, "/api/models").body
            let models = try decodeJSON([Model].self, admin)
            #expect(models.map(\.name) == ["list/m0", "list/renamed"] && models.last?.maxTokens == 55)
            let encoder = JSONResponse<[Model]>.encoder()
            #expect(admin == String(decoding: try encoder.encode(components.registry.snapshot.models), as: UTF8.self))
            let publicList = try await client.call(.get, "/api/models", token: user).body
            #expect(publicList.contains("list/renamed") && !publicList.contains("list/m2") && !publicList.contains("providerSettings"))
            let openAI = try await client.call(.get, "/v1/models").body
            #expect(openAI.hasPrefix(#"{"data":[{"#) && openAI.contains(#""id":"list/renamed""#) && !openAI.contains("list/m2"), "\(openAI)")
        }
    }
}
