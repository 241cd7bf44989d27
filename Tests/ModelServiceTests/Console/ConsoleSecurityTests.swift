import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// The console's safety, in process on both databases: cookie flags, hashed sessions, sign-out,
/// CSRF and cross-site refusal, the security headers, and 403 for a user token on admin pages.
@Suite struct ConsoleSecurityTests {
    /// A signed-in browser, reduced to its cookie and the page's CSRF token.
    struct Browser {
        var cookie: String
        var csrf: String
    }

    static func form(_ fields: [String: String]) -> String {
        var components = URLComponents()
        components.queryItems = fields.map { URLQueryItem(name: $0.key, value: $0.value) }
        return (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }

    static func post(
        _ client: any TestClientProtocol, _ uri: String, _ fields: [String: String], cookie: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: form(fields))) {
            ($0.status, String(buffer: $0.body), $0.headers)
        }
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, cookie: String?) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        try await client.execute(uri: uri, method: .get, headers: cookie.map { [.cookie: $0] } ?? [:]) { ($0.status, String(buffer: $0.body), $0.headers) }
    }

    static func signIn(_ client: any TestClientProtocol, token: String, headers: HTTPFields = [:]) async throws -> (Browser, setCookie: String) {
        let response = try await post(client, "/console/sign-in", ["token": token], headers: headers)
        #expect(response.status == .seeOther, "\(response.body)")
        let setCookie = try #require(response.headers[.setCookie])
        let cookie = String(try #require(setCookie.split(separator: ";").first))
        let home = try #require(response.headers[.location])
        let page = try await get(client, home, cookie: cookie)
        #expect(page.status == .ok)
        return (Browser(cookie: cookie, csrf: try #require(csrf(in: page.body))), setCookie)
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func userToken(_ client: any TestClientProtocol, userId: String) async throws -> String {
        let created = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "\#(userId)"}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])
        return try #require(object["token"] as? String)
    }

    @Test(arguments: TestDatabase.available)
    func signInSetsAStrictHttpOnlyCookieAndStoresOnlyAHash(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, components in
            let root = try await Self.get(client, "/", cookie: nil)
            #expect(root.status == .seeOther && root.headers[.location] == "/console")
            let page = try await Self.get(client, "/console", cookie: nil)
            #expect(page.body.contains(#"<label for="field-token">Access token</label>"#) && page.body.contains(">Sign in</button>"))

            let (browser, setCookie) = try await Self.signIn(client, token: TestApp.adminToken)
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/console"))
            #expect(!setCookie.contains("Secure"))
            let models = try await Self.get(client, "/console/models", cookie: browser.cookie)
            #expect(models.status == .ok && !models.body.contains(TestApp.adminToken))

            let sessionId = String(browser.cookie.dropFirst("ms_console=".count))
            let rows = try await components.database.run { try await $0.raw("SELECT id_hash, data FROM console_sessions").all() }
            #expect(rows.count == 1)
            let stored = try rows[0].decode(column: "id_hash", as: String.self)
            #expect(stored == TokenHashing.sha256Hex(of: "console." + sessionId) && !stored.contains(sessionId))
            #expect(try !rows[0].decode(column: "data", as: String.self).contains(TestApp.adminToken))

            // Behind a TLS proxy the cookie is Secure.
            let (_, secureCookie) = try await Self.signIn(client, token: TestApp.adminToken, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(secureCookie.contains("Secure"))

            // Sign-out deletes the session: the old cookie opens nothing.
            let out = try await Self.post(client, "/console/sign-out", ["csrf": browser.csrf], cookie: browser.cookie)
            #expect(out.status == .seeOther && (out.headers[.setCookie] ?? "").contains("ms_console=;"))
            let after = try await Self.get(client, "/console/models", cookie: browser.cookie)
            #expect(after.status == .seeOther && after.headers[.location] == "/console")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aWrongTokenOrAnExpiredSessionOpensNothing(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["CONSOLE_SESSION_HOURS": "1"]) { client, components in
            let wrong = try await Self.post(client, "/console/sign-in", ["token": "not-a-real-token"])
            #expect(wrong.status == .unauthorized && wrong.body.contains("not valid") && !wrong.body.contains("not-a-real-token"))
            #expect(wrong.headers[.setCookie] == nil)
            let (browser, _) = try await Self.signIn(client, token: TestApp.adminToken)
            try await components.database.run { try await $0.raw("UPDATE console_sessions SET expires_at = \(bind: Clock.nowMillis() - 1)").run() }
            let expired = try await Self.get(client, "/console/models", cookie: browser.cookie)
            #expect(expired.status == .seeOther)
        }
    }

    @Test(arguments: TestDatabase.available)
    func aPostWithoutTheCSRFTokenOrFromAnotherSiteIsRefused(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            let created = try await client.call(.post, "/api/models", json: #"{"name": "csrf/model", "provider": "openai", "modelId": "m"}"#)
            #expect(created.status == .created)
            let id = try #require(components.registry.model(named: "csrf/model")?.id)
            let (browser, _) = try await Self.signIn(client, token: TestApp.adminToken)
            let path = "/console/models/\(id)/disable"

            let missing = try await Self.post(client, path, [:], cookie: browser.cookie)
            #expect(missing.status == .forbidden && missing.body.contains("was refused"))
            let wrong = try await Self.post(client, path, ["csrf": "wrong"], cookie: browser.cookie)
            #expect(wrong.status == .forbidden)
            let otherOrigin = try await Self.post(client, path, ["csrf": browser.csrf], cookie: browser.cookie, headers: [.origin: "https://evil.example"])
            #expect(otherOrigin.status == .forbidden)
            let crossSite = try await Self.post(
                client, path, ["csrf": browser.csrf], cookie: browser.cookie, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            #expect(components.registry.model(named: "csrf/model")?.isActive == true)

            let accepted = try await Self.post(
                client, path, ["csrf": browser.csrf], cookie: browser.cookie, headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(accepted.status == .seeOther)
            #expect(components.registry.model(named: "csrf/model")?.isActive == false)
        }
    }

    @Test(arguments: TestDatabase.available)
    func everyPageSendsTheSecurityHeaders(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, _ in
            let (browser, _) = try await Self.signIn(client, token: TestApp.adminToken)
            for path in ["/console", "/console/models", "/console/models/new", "/console/keys", "/console/tokens", "/console/usage",
                         "/console/audit", "/console/health", "/console/static/console.css"] {
                let page = try await Self.get(client, path, cookie: path == "/console" ? nil : browser.cookie)
                #expect(page.status == .ok, "\(path)")
                let policy = page.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "\(path)")
                #expect(page.headers[.xContentTypeOptions] == "nosniff" && page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(path)")
                #expect(!page.body.contains("<script>") && !page.body.contains(" style=\""), "\(path) has inline script or style")
            }
            let script = try await Self.get(client, "/console/static/console.js", cookie: nil)
            #expect(script.status == .ok && script.body.contains("addEventListener"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func aUserTokenGets403OnAdminPagesAndOnlyItsOwnNavigation(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, _ in
            let token = try await Self.userToken(client, userId: "dana")
            let (browser, _) = try await Self.signIn(client, token: token)
            for path in ["/console/models", "/console/models/new", "/console/keys", "/console/tokens", "/console/usage", "/console/usage.csv",
                         "/console/audit", "/console/health"] {
                let page = try await Self.get(client, path, cookie: browser.cookie)
                #expect(page.status == .forbidden && page.body.contains("Not allowed"), "\(path): \(page.status)")
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            let refused = try await Self.post(client, "/console/tokens", ["csrf": browser.csrf, "role": "admin"], cookie: browser.cookie)
            #expect(refused.status == .forbidden)
            let settings = try await Self.get(client, "/console/settings", cookie: browser.cookie)
            #expect(settings.body.contains(">Settings</a>") && settings.body.contains(">My usage</a>") && !settings.body.contains(">Models</a>"))
            #expect(!settings.body.contains(token))
            let admin = try await Self.signIn(client, token: TestApp.adminToken).0
            let adminSettings = try await Self.get(client, "/console/settings", cookie: admin.cookie)
            #expect(adminSettings.status == .forbidden)
        }
    }

    @Test(arguments: TestDatabase.available)
    func aBadModelFormStoresNothingAndKeepsWhatWasTyped(_ database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            let (browser, _) = try await Self.signIn(client, token: TestApp.adminToken)
            let fields = ["csrf": browser.csrf, "name": "form/model", "provider": "openai", "modelId": "gpt-x", "maxTokens": "-5",
                          "providerSettings": "{}", "isActive": "true", "mode": "chat"]
            let bad = try await Self.post(client, "/console/models/new", fields, cookie: browser.cookie)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.body.contains(#"id="field-maxTokens-error""#) && bad.body.contains("There is a problem"))
            #expect(bad.body.contains(#"value="form/model""#) && bad.body.contains(#"value="-5""#))
            #expect(components.registry.model(named: "form/model") == nil)
            for (field, value) in [("maxTokens", "many"), ("providerSettings", "[1"), ("inputCostPerMillion", "-1"), ("fallbacks", "no/such-model")] {
                var changed = fields
                changed["maxTokens"] = "100"
                changed[field] = value
                let response = try await Self.post(client, "/console/models/new", changed, cookie: browser.cookie)
                #expect(response.status == .unprocessableContent && response.body.contains(#"id="field-\#(field)-error""#), "\(field)")
                #expect(components.registry.model(named: "form/model") == nil)
            }
            var good = fields
            good["maxTokens"] = "100"
            let created = try await Self.post(client, "/console/models/new", good, cookie: browser.cookie)
            #expect(created.status == .seeOther)
            #expect(components.registry.model(named: "form/model")?.maxTokens == 100)
        }
    }

    @Test func aConsoleFormBodyOverTheAPILimitIsRefusedWith413() async throws {
        try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            let (browser, _) = try await Self.signIn(client, token: TestApp.adminToken)
            let fields = ["csrf": browser.csrf, "name": "big/model", "provider": "openai", "modelId": "gpt-x",
                          "description": String(repeating: "a", count: 2 * 1024 * 1024)]
            let refused = try await Self.post(client, "/console/models/new", fields, cookie: browser.cookie)
            #expect(refused.status == .contentTooLarge)
            #expect(components.registry.model(named: "big/model") == nil)
        }
    }
}
