import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `/api/models/{id}/deployments`: admin-only, bounded, audited; a registry from before deployments opens with
/// one deployment per model and answers as before; a deployment added on one instance serves on the other.
@Suite struct DeploymentAPITests {
    @Test(arguments: TestDatabase.available)
    func aRegistryFromTheLastReleaseOpensWithOneDeploymentPerModelAndAnswersAsBefore(database: TestDatabase) async throws {
        let url = try await database.makeURL()
        let old = try await TestApp.components(databaseURL: url, extra: VaultAPI.environment(fakes: nil))
        try await old.withRunning { components in
            // The schema of the previous release (through 018), with a model written by it.
            try await Migrations.run(Array(Migrations.all.prefix { $0.name != "019_deployments" }), on: components.database)
            try await components.database.run { sql in
                try await sql.raw(
                    """
                    INSERT INTO models (id, name, provider, model_id, max_tokens, created_at, updated_at, input_cost_per_million, output_cost_per_million) \
                    VALUES ('legacy-1', 'legacy/echo', 'openai', 'fake-echo', 300, 1, 1, 1500, 2000)
                    """
                ).run()
            }
        }
        try await GatewayHarness.run(databaseURL: url, extra: TrafficTest.environment) { client, _, _ in
            let listing = try await client.call(.get, "/api/models/legacy-1/deployments")
            #expect(listing.status == .ok, "\(listing.body)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(listing.body.utf8)) as? [String: Any])
            let deployments = try #require(object["deployments"] as? [[String: Any]])
            #expect(deployments.count == 1)
            #expect(deployments.first?["id"] as? String == "dep_legacy-1")
            #expect(deployments.first?["modelId"] as? String == "fake-echo" && deployments.first?["provider"] as? String == "openai")
            #expect(Set(deployments.first?["followsModel"] as? [String] ?? []) == ["provider", "baseURL", "modelId", "apiKeyEnvVar"])
            #expect((object["routing"] as? [String: Any])?["strategy"] as? String == "weighted")

            let legacy = try await DeploymentTest.chat(client, model: "legacy/echo")
            let fresh = try await DeploymentTest.chat(client, model: GatewayHarness.modelName(.openai))
            #expect(legacy.status == .ok && legacy.model == "legacy/echo" && legacy.deployment == "dep_legacy-1", "\(legacy.body)")
            #expect(try GatewayHarness.message(legacy.body)["content"] as? String == GatewayHarness.message(fresh.body)["content"] as? String)
        }
    }

    @Test func deploymentsAreAdminOnlyValidatedAuditedAndHiddenFromThePublicView() async throws {
        try await GatewayHarness.run(extra: TrafficTest.environment) { client, _, components in
            let model = try await DeploymentTest.model(client, name: "deployments/api", upstreams: ["fake-echo-a", "fake-echo-b"])
            let id = try #require(components.registry.model(named: model.name)).id
            let path = "/api/models/\(id)/deployments"
            // By name too, with its slash as is.
            #expect(try await client.call(.get, "/api/models/deployments/api/deployments").status == .ok)

            let user = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "dana"}"#)
            let userToken = try #require(try JSONSerialization.jsonObject(with: Data(user.body.utf8)) as? [String: Any])["token"] as? String
            #expect(try await client.call(.get, path, token: userToken).status == .forbidden)
            let publicView = try await client.call(.get, "/api/models/\(id)", token: userToken)
            #expect(publicView.status == .ok && !publicView.body.contains("fake-echo-b") && !publicView.body.contains(#""deployments":"#), "\(publicView.body)")

            for (body, field) in [
                (#"{"weight": 0}"#, "weight"), (#"{"weight": 1001}"#, "weight"), (#"{"provider": "nope"}"#, "provider"),
                (#"{"baseURL": "ftp://x"}"#, "baseURL"), (#"{"keyPool": "private"}"#, "keyPool"), (#"{"apiKeyEnvVar": "DATABASE_URL"}"#, "apiKeyEnvVar"),
                (#"{"keyId": "no-such-key"}"#, "keyId"), (#"{"keyPool": "shared", "apiKeyEnvVar": "OPENAI_API_KEY"}"#, "keyId"),
                (#"{"rateLimitPerMinute": -1}"#, "rateLimitPerMinute"), (#"{"region": ""}"#, "region"),
            ] {
                let refused = try await client.call(.post, path, json: body)
                #expect(refused.status == .badRequest && refused.body.contains(field), "\(body): \(refused.body)")
            }
            #expect(try await client.call(.get, "\(path)/dep_nope").status == .notFound)
            #expect(try await client.call(.patch, "\(path)/dep_nope", json: #"{"weight": 2}"#).status == .notFound)
            #expect(try await client.call(.get, "/api/models/no-such-model/deployments").status == .notFound)

            let second = model.deployments[1]
            let patched = try await client.call(.patch, "\(path)/\(second)", json: #"{"weight": 5, "region": "eu-west", "rateLimitPerMinute": 100}"#)
            #expect(patched.status == .ok && patched.body.contains(#""region":"eu-west""#) && patched.body.contains(#""weight":5"#), "\(patched.body)")
            // A model keeps one active deployment.
            #expect(try await client.call(.patch, "\(path)/\(model.deployments[0])", json: #"{"isActive": false}"#).status == .ok)
            #expect(try await client.call(.patch, "\(path)/\(second)", json: #"{"isActive": false}"#).status == .conflict)
            #expect(try await client.call(.delete, "\(path)/\(second)").status == .conflict)
            #expect(try await client.call(.delete, "\(path)/\(model.deployments[0])").status == .noContent)
            let left = try await client.call(.get, path)
            #expect(left.body.contains(second) && !left.body.contains(model.deployments[0]))
            // Only the active deployment answers.
            #expect(try await DeploymentTest.chat(client, model: model.name).deployment == second)

            let audit = try await client.call(.get, "/api/audit?action=update")
            #expect(audit.body.contains("deployment \(second) changed") && audit.body.contains("deployment \(model.deployments[0]) removed"), "\(audit.body)")
        }
    }

    /// Two instances on one PostgreSQL: a deployment added through the first serves calls on the second within a second.
    @Test(.enabled(if: MultiInstanceTrafficTests.enabled))
    func aDeploymentAddedOnOneInstanceIsUsedByTheOther() async throws {
        try await MultiInstanceTrafficTests.twoInstances { ports, client, _, second in
            let model = try await DeploymentTest.model(client, name: "deployments/shared", upstreams: ["fake-echo-a"])
            _ = try #require(try await eventually(timeout: .seconds(30)) { second.registry.model(named: model.name) != nil })
            let id = try #require(second.registry.model(named: model.name)).id
            let added = try await client.call(.post, "/api/models/\(id)/deployments", json: #"{"modelId": "fake-echo-new"}"#)
            let newId = try #require(try JSONSerialization.jsonObject(with: Data(added.body.utf8)) as? [String: Any])["id"] as? String
            // Only the new deployment is active, so a call the second instance answers from it proves it saw the change.
            #expect(try await client.call(.patch, "/api/models/\(id)/deployments/\(model.deployments[0])", json: #"{"isActive": false}"#).status == .ok)
            let started = ContinuousClock.now
            var answeredBy: String?
            while ContinuousClock.now - started < .seconds(1), answeredBy != newId {
                answeredBy = try await DeploymentTest.chat(port: ports[1], model: model.name).deployment
                if answeredBy != newId { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(answeredBy == newId)
        }
    }
}
