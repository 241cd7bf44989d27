import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Console single sign-on (issue 23) over real HTTP against ``FakeOpenIDProvider``: the round trip with PKCE,
/// `state` and `nonce`; groups becoming the admin role and team memberships at every sign-in; and each refusal
/// (wrong state, wrong nonce, expired, foreign-signed, another audience) answered with a clear page.
@Suite struct ConsoleSignOnTests {
    typealias Page = ConsoleSecurityTests

    static func environment(_ provider: FakeOpenIDProvider) -> [String: String] {
        [
            "OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": FakeOpenIDProvider.clientId, "OIDC_CLIENT_SECRET": FakeOpenIDProvider.clientSecret,
            "OIDC_ADMIN_GROUPS": "ms-admins, platform", "OIDC_NAME": "Fake IdP",
        ]
    }

    /// The browser's part: start, follow the provider's answer back (optionally with another state), the callback page.
    static func signIn(
        _ client: any TestClientProtocol, tamperState: Bool = false, dropCookie: Bool = false
    ) async throws -> (status: HTTPResponse.Status, body: String, cookie: String?) {
        let start = try await Page.get(client, "/console/sso/start", cookie: nil)
        #expect(start.status == .seeOther || start.status == .found, "\(start.body)")
        let attemptCookie = String(try #require(start.headers[.setCookie]?.split(separator: ";").first))
        #expect(start.headers[.setCookie]?.contains("HttpOnly") == true && start.headers[.setCookie]?.contains("SameSite=Lax") == true)
        let authorize = try #require(start.headers[.location])
        #expect(authorize.contains("code_challenge_method=S256") && authorize.contains("nonce=") && authorize.contains("state="))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let answer: HTTPClientResponse
        do {
            answer = try await http.execute(HTTPClientRequest(url: authorize), timeout: .seconds(10))
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        let location = try #require(answer.headers.first(name: "location"))
        let back = try #require(URLComponents(string: location))
        let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)
        var state = try #require(back.queryItems?.first { $0.name == "state" }?.value)
        if tamperState { state += "x" }
        let callback = try await Page.get(
            client, "/console/sso/callback?code=\(code)&state=\(state)", cookie: dropCookie ? nil : attemptCookie)
        let session = callback.headers[values: .setCookie].first { $0.hasPrefix(ConsoleSessions.cookieName + "=") }
        return (callback.status, callback.body, session.map { String($0.split(separator: ";")[0]) })
    }

    @Test func groupsMakeAnAdminAndTeamsAtEverySignIn() async throws {
        try await FakeOpenIDProvider().run { provider in
            try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: Self.environment(provider)) { client, components in
                let signInPage = try await Page.get(client, "/console", cookie: nil)
                #expect(signInPage.body.contains(#"href="/console/sso/start">Sign in with Fake IdP"#))

                provider.set(mode: .honest, subject: "olga", groups: ["ms-admins", "team:Research", "team:Ops:admin", "unrelated"])
                let first = try await Self.signIn(client)
                #expect(first.status == .ok && first.body.contains("/console/models"), "\(first.body)")
                let adminCookie = try #require(first.cookie)
                #expect(try await Page.get(client, "/console/models", cookie: adminCookie).status == .ok)
                #expect(provider.pkceFailures == 0 && provider.tokenRequests == 1)
                let teams = components.teams.teams()
                #expect(Set(teams.map(\.name)) == ["Research", "Ops"])
                let roles = components.teams.memberships(of: "olga")
                #expect(roles.count == 2 && roles.values.contains(.teamAdmin) && roles.values.contains(.member))

                // Out of the admin group and of Research: a user now, in Ops only; the admin session's token is revoked.
                provider.set(mode: .honest, subject: "olga", groups: ["team:Ops"])
                let second = try await Self.signIn(client)
                let userCookie = try #require(second.cookie)
                #expect(second.status == .ok && second.body.contains("/console/settings"), "\(second.body)")
                #expect(try await Page.get(client, "/console/models", cookie: userCookie).status == .forbidden)
                #expect(try await Page.get(client, "/console/models", cookie: adminCookie).status == .seeOther)
                #expect(Array(components.teams.memberships(of: "olga").values) == [.member])
                let live = try await components.tokens.list().filter { $0.name.contains("olga") && $0.revokedAt == nil }
                #expect(live.count == 1 && live.first?.role == .user && live.first?.userId == "olga")
            }
        }
    }

    /// The provider rotates its signing key between two sign-ins: the new key id is fetched, and the sign-in works.
    @Test func aRotatedSigningKeyIsFetched() async throws {
        try await FakeOpenIDProvider().run { provider in
            try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: Self.environment(provider)) { client, _ in
                provider.set(mode: .honest, subject: "rui")
                #expect(try await Self.signIn(client).status == .ok)
                try provider.rotate()
                let after = try await Self.signIn(client)
                #expect(after.status == .ok && after.cookie != nil, "\(after.body)")
            }
        }
    }

    @Test func everyBrokenAnswerIsRefusedWithAClearPage() async throws {
        try await FakeOpenIDProvider().run { provider in
            try await TestApp.run(databaseURL: try await TestDatabase.sqlite.makeURL(), extra: Self.environment(provider)) { client, components in
                let tampered = try await Self.signIn(client, tamperState: true)
                #expect(tampered.status == .badRequest && tampered.body.contains("state") && tampered.cookie == nil, "\(tampered.body)")
                let cookieless = try await Self.signIn(client, dropCookie: true)
                #expect(cookieless.status == .badRequest && cookieless.cookie == nil, "\(cookieless.body)")
                let cases: [(FakeOpenIDProvider.Mode, String)] = [
                    (.wrongNonce, "nonce"), (.expired, "expired"), (.foreignSigned, "signature"), (.wrongAudience, "another client"),
                ]
                for (mode, words) in cases {
                    provider.set(mode: mode, groups: ["ms-admins"])
                    let refused = try await Self.signIn(client)
                    #expect(refused.status == .unauthorized && refused.body.contains(words) && refused.cookie == nil, "\(mode): \(refused.body)")
                    #expect(refused.body.contains("You are not signed in") && !refused.body.contains(FakeOpenIDProvider.clientSecret))
                }
                #expect(try await components.tokens.list().filter { $0.name.contains("SSO") }.isEmpty)
            }
        }
    }

    @Test func aHalfConfiguredProviderStopsTheStart() throws {
        #expect(throws: ConfigurationError.self) { try OpenIDSettings.read(["OIDC_ISSUER": "https://id.example.com"]) }
        #expect(throws: ConfigurationError.self) { try OpenIDSettings.read(["OIDC_ISSUER": "ftp://id.example.com", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"]) }
        #expect(try OpenIDSettings.read([:]) == nil)
        let settings = try #require(try OpenIDSettings.read(["OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b", "OIDC_ADMIN_GROUPS": "x"]))
        let access = settings.access(groups: ["x", "team:A", "team:A:admin", "team:", "team:B"])
        #expect(access.admin && access.teams == ["A": .teamAdmin, "B": .member])
    }
}
