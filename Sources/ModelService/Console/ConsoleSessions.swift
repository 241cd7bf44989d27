import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import ModelServiceCore

/// Console sign-in: hummingbird-auth's session storage (ids it makes, rows in `console_sessions`),
/// with the cookie's flags set here per request (Secure depends on how the request arrived).
struct ConsoleSessions: Sendable {
    static let cookieName = "ms_console"
    static let cookiePath = "/console"

    let storage: SessionStorage<ConsoleSession>
    let tokens: AccessTokenStore
    let lifetime: Duration
    let alwaysSecure: Bool

    init(database: Database, tokens: AccessTokenStore, hours: Int, alwaysSecure: Bool) {
        storage = SessionStorage(
            ConsoleSessionDriver(database: database),
            configuration: .init(sessionCookieParameters: .init(name: Self.cookieName, path: Self.cookiePath), keyPrefix: "console.")
        )
        self.tokens = tokens
        lifetime = .seconds(hours * 3600)
        self.alwaysSecure = alwaysSecure
    }

    /// The signed-in caller, or nil (no cookie, unknown or expired session, or its token revoked since).
    func viewer(_ request: Request) async -> ConsoleViewer? {
        guard let session = try? await storage.load(request: request),
            let principal = tokens.principal(tokenId: session.tokenId)
        else { return nil }
        return ConsoleViewer(principal: principal, csrf: session.csrf)
    }

    /// Opens a session for a caller whose token was just checked; returns the cookie that carries it.
    func signIn(_ principal: Principal, request: Request) async throws -> Cookie {
        let session = ConsoleSession(tokenId: principal.tokenId, role: principal.role, userId: principal.userId, csrf: ConsoleSession.makeCSRF())
        let stored = try await storage.save(session: session, expiresIn: lifetime)
        return cookie(value: stored.value, expires: Date().addingTimeInterval(Double(lifetime.components.seconds)), request: request)
    }

    /// Deletes the session row and returns a cookie that clears the browser's copy.
    func signOut(request: Request) async -> Cookie {
        _ = try? await storage.delete(request: request)
        return cookie(value: "", expires: Date(timeIntervalSince1970: 0), request: request)
    }

    private func cookie(value: String, expires: Date, request: Request) -> Cookie {
        Cookie(
            name: Self.cookieName, value: value, expires: expires, path: Self.cookiePath,
            secure: alwaysSecure || Self.cameOverTLS(request), httpOnly: true, sameSite: .strict
        )
    }

    /// Behind a TLS-terminating proxy the request says so in `X-Forwarded-Proto`.
    static func cameOverTLS(_ request: Request) -> Bool {
        if request.uri.scheme == .https { return true }
        guard let name = HTTPField.Name("X-Forwarded-Proto"), let proto = request.headers[name] else { return false }
        return proto.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }
}
