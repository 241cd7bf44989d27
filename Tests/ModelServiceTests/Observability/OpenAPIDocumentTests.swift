import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// `GET /openapi.json` describes exactly the router's routes, and is a valid OpenAPI 3.1 document.
@Suite struct OpenAPIDocumentTests {
    /// The console serves HTML pages for browsers, not an API (and `/` redirects to it): they are left
    /// out of the document on purpose.
    static func isConsolePage(_ path: String) -> Bool {
        path == "/" || path == "/console" || path.hasPrefix("/console/")
    }

    static func documentedRoutes(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    static func served() async throws -> (routes: Set<String>, body: String, contentType: String?) {
        let components = try await TestApp.components(databaseURL: try await TestDatabase.sqlite.makeURL())
        let routes = Set(buildRouter(components: components).routes.map { "\($0.method.rawValue) \($0.path)" }.filter { !isConsolePage(String($0.split(separator: " ")[1])) })
        let app = try await buildApplication(components: components, logger: TestApp.logger)
        return try await app.test(.router) { client in
            let response = try await client.call(.get, "/openapi.json", token: nil)
            #expect(response.status == .ok)
            return (routes, response.body, response.headers[.contentType])
        }
    }

    @Test func documentMatchesTheRouter() async throws {
        let (routes, body, contentType) = try await Self.served()
        #expect(contentType?.hasPrefix("application/json") == true)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let documented = try Self.documentedRoutes(document)
        #expect(routes.contains("GET /api/health"), "route enumeration found \(routes.sorted())")
        let undocumented = routes.subtracting(documented)
        #expect(undocumented.isEmpty, "routes missing from openapi.json: \(undocumented.sorted())")
        let unrouted = documented.subtracting(routes)
        #expect(unrouted.isEmpty, "openapi.json documents routes the router lacks: \(unrouted.sorted())")
        #expect(!documented.contains { Self.isConsolePage(String($0.split(separator: " ")[1])) })
    }

    @Test func documentNamesTheErrorShapeAndSecuritySchemes() async throws {
        let (_, body, _) = try await Self.served()
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: [String: Any]])
        #expect(schemes["bearerAuth"]?["scheme"] as? String == "bearer")
        #expect(schemes["internalSecret"]?["name"] as? String == "x-internal-secret")
        #expect(schemes["anthropicApiKey"]?["name"] as? String == "x-api-key")
        let error = try #require((components["schemas"] as? [String: Any])?["Error"] as? [String: Any])
        let detail = try #require(((error["properties"] as? [String: Any])?["error"] as? [String: Any])?["required"] as? [String])
        #expect(Set(detail) == ["code", "message", "type"])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        let decrypt = try #require(paths["/api/api-keys/{id}/decrypt"]?["get"]?["security"] as? [[String: Any]])
        #expect(decrypt.first?.keys.first == "internalSecret")
    }

    static var validatorInstalled: Bool {
        (try? ChildProcess.output(of: ["python3", "-c", "import openapi_spec_validator"]).status) == 0
    }

    /// In CI the validator must be there: a missing package fails instead of skipping.
    static var validatorEnabled: Bool { validatorInstalled || ProcessInfo.processInfo.environment["CI"] != nil }

    @Test(.enabled(if: OpenAPIDocumentTests.validatorEnabled, "openapi-spec-validator is not installed (pip install openapi-spec-validator)"))
    func documentValidatesWithOpenAPISpecValidator() async throws {
        let (_, body, _) = try await Self.served()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try await Task.detached {
            try ChildProcess.output(of: [
                "python3", "-c",
                "import json, sys; from openapi_spec_validator import validate; from openapi_spec_validator.validation import OpenAPIV31SpecValidator; "
                    + "validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator); print('valid')",
                file.path,
            ])
        }.value
        #expect(status == 0, "\(output)")
        #expect(output.contains("valid"))
    }
}
