import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import ModelServiceCore

/// `/console/sso`: sign-in through the company's OpenID Connect provider (``OpenIDProvider``), authorization code
/// with PKCE, `state` and `nonce`. The attempt (its state, nonce and PKCE verifier) is kept server-side for ten
/// minutes behind its own HttpOnly cookie, so the callback must come back to the browser that started it.
///
/// A successful sign-in makes a console access token for the person (admin when the groups claim says so, else a
/// user token for the user claim), revokes the one of their previous sign-in, sets their team memberships from
/// the groups claim, and opens a console session as the token sign-in does.
struct ConsoleSignOnController {
    let pages: ConsolePages
    let provider: OpenIDProvider
    let tokens: AccessTokenStore
    let teams: TeamStore
    let attempts: SessionStorage<SignOnAttempt>

    static let cookieName = "ms_sso"
    static let cookiePath = "/console/sso"
    static let attemptLifetime = Duration.seconds(600)

    /// What one sign-in attempt remembers until the provider sends the browser back.
    struct SignOnAttempt: Codable, Sendable {
        var state: String
        var nonce: String
        var verifier: String
    }

    init(pages: ConsolePages, provider: OpenIDProvider, tokens: AccessTokenStore, teams: TeamStore, database: Database) {
        self.pages = pages
        self.provider = provider
        self.tokens = tokens
        self.teams = teams
        attempts = SessionStorage(
            ConsoleSessionDriver(database: database),
            configuration: .init(sessionCookieParameters: .init(name: Self.cookieName, path: Self.cookiePath), keyPrefix: "sso.")
        )
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("sso/start", use: start)
        group.get("sso/callback", use: callback)
    }

    /// The name of the token each sign-in of `userId` makes (the previous one is revoked by name).
    static func tokenName(_ userId: String) -> String { "console sign-in (SSO) \(userId)" }

    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let attempt = SignOnAttempt(state: Self.random(), nonce: Self.random(), verifier: Self.random())
        let challenge = Base64URL.encode(Array(SHA256.hash(data: Data(attempt.verifier.utf8))))
        let url: String
        do {
            url = try await provider.authorizationURL(state: attempt.state, nonce: attempt.nonce, challenge: challenge, redirectURI: redirectURI(request))
        } catch {
            return failure("The identity provider cannot be reached: \(error).", status: .badGateway)
        }
        let stored = try await attempts.save(session: attempt, expiresIn: Self.attemptLifetime)
        var response = ConsoleRenderer.redirect(url)
        response.setCookie(cookie(stored.value, expires: Date().addingTimeInterval(600), request: request))
        return response
    }

    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let attempt = try? await attempts.load(request: request)
        _ = try? await attempts.delete(request: request)
        var response = try await finish(request, query: query, attempt: attempt)
        response.setCookie(cookie("", expires: Date(timeIntervalSince1970: 0), request: request))
        return response
    }

    private func finish(_ request: Request, query: Parameters, attempt: SignOnAttempt?) async throws -> Response {
        if let error = query.get("error") {
            return failure("The identity provider did not sign you in (\(String(error.prefix(80)))).", status: .unauthorized)
        }
        guard let attempt, let state = query.get("state"), SecretComparison.equal(state, attempt.state) else {
            return failure(
                "This sign-in does not match one started in this browser (its state is wrong or it took more than ten minutes).", status: .badRequest)
        }
        guard let code = query.get("code"), !code.isEmpty, code.utf8.count <= 4096 else {
            return failure("The identity provider sent no sign-in code.", status: .badRequest)
        }
        let token: IDToken
        do {
            token = try await provider.signIn(code: code, verifier: attempt.verifier, nonce: attempt.nonce, redirectURI: redirectURI(request))
        } catch let refusal as IDToken.Refusal {
            return failure("The identity provider's answer was refused: \(refusal).", status: .unauthorized)
        } catch {
            return failure("The sign-in could not be completed: \(error).", status: .badGateway)
        }
        let settings = provider.settings
        guard let rawUser = token.text(settings.userClaim), let userId = try? UserId.checked(rawUser, field: settings.userClaim) else {
            return failure("Your ID token has no usable \(settings.userClaim) claim to name you by.", status: .unauthorized)
        }
        let (admin, teamRoles) = settings.access(groups: token.groups(settings.groupsClaim))
        let actor = AuditLog.Actor(tokenId: nil, role: "sso")
        try await applyTeams(teamRoles, userId: userId, actor: actor)
        for old in try await tokens.list(liveNamed: Self.tokenName(userId)) {
            _ = try await tokens.revoke(id: old.id, actor: actor)
        }
        let lifetime = pages.sessions.lifetime
        let (record, _) = try await tokens.create(
            role: admin ? .admin : .user, userId: admin ? nil : userId, name: Self.tokenName(userId),
            expiresAt: Date().addingTimeInterval(Double(lifetime.components.seconds)), actor: actor)
        guard let principal = tokens.principal(tokenId: record.id) else { return failure("The sign-in could not be completed.", status: .internalServerError) }
        let session = try await pages.sessions.signIn(principal, request: request)
        // A page, not a redirect: the provider's cross-site navigation would not carry the SameSite=Strict session cookie on.
        let home = ConsoleSignInController.home(principal)
        var response = pages.renderer.page(
            "signed-in", title: "Signed in", viewer: nil, status: .ok, errors: FieldErrors(), notice: nil,
            ["home": home, "who": userId, "role": admin ? "admin" : "user"])
        response.setCookie(session)
        return response
    }

    /// Sets the person's team memberships to the teams their groups name, making missing teams.
    private func applyTeams(_ wanted: [String: TeamRole], userId: String, actor: AuditLog.Actor) async throws {
        var byId: [String: TeamRole] = [:]
        for (name, role) in wanted.sorted(by: { $0.key < $1.key }) {
            let existing = teams.teams().first { $0.name.lowercased() == name.lowercased() }
            let team: Team
            if let existing {
                team = existing
            } else {
                team = try await teams.create(name: name, actor: actor)
            }
            byId[team.id] = role
        }
        try await teams.syncMemberships(userId: userId, to: byId, within: Set(teams.teams().map(\.id)), actor: actor)
    }

    private func failure(_ reason: String, status: HTTPResponse.Status) -> Response {
        pages.renderer.page(
            "sign-in-failed", title: "Sign-in failed", viewer: nil, status: status, errors: FieldErrors(), notice: nil,
            ["reason": reason, "provider": provider.settings.displayName])
    }

    /// `OIDC_REDIRECT_URI`, else this server's callback as the request reached it.
    private func redirectURI(_ request: Request) -> String {
        if let configured = provider.settings.redirectURI { return configured }
        let scheme = ConsoleSessions.cameOverTLS(request) ? "https" : "http"
        return "\(scheme)://\(request.head.authority ?? "localhost")/console/sso/callback"
    }

    private func cookie(_ value: String, expires: Date, request: Request) -> Cookie {
        // Lax: the provider sends the browser back with a cross-site top-level GET.
        Cookie(
            name: Self.cookieName, value: value, expires: expires, path: Self.cookiePath,
            secure: pages.sessions.alwaysSecure || ConsoleSessions.cameOverTLS(request), httpOnly: true, sameSite: .lax)
    }

    /// 32 random bytes, base64url: a state, nonce or PKCE verifier (RFC 7636 asks 43 to 128 characters).
    private static func random() -> String {
        Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }
}
