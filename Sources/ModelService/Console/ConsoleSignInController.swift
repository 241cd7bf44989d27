import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console`: the sign-in form (an access token, asked once), sign-out, and `/` sending browsers here.
struct ConsoleSignInController {
    let pages: ConsolePages
    /// The identity provider's name for the single sign-on button; nil when sign-on is off.
    var signOn: String? = nil

    func register(on router: Router<AppRequestContext>, group: RouterGroup<AppRequestContext>) {
        router.get("/") { _, _ in ConsoleRenderer.redirect("/console") }
        group.get(use: signInPage)
        group.post("sign-in", use: signIn)
        group.post("sign-out", use: signOut)
    }

    /// Where a role lands after signing in.
    static func home(_ principal: Principal) -> String {
        principal.isAdmin ? "/console/models" : "/console/settings"
    }

    @Sendable func signInPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let viewer = await pages.sessions.viewer(request) { return ConsoleRenderer.redirect(Self.home(viewer.principal)) }
        let notice = request.uri.queryParameters.get("signedOut") != nil ? "You are signed out." : nil
        return page(errors: FieldErrors(), notice: notice)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        var errors = FieldErrors()
        guard let token = form.text("token") else {
            errors.add("token", "Enter an access token")
            return page(errors: errors)
        }
        guard token.count <= 512, let principal = pages.sessions.tokens.authenticate(Secret(token)) else {
            errors.add("token", "This access token is not valid: it is unknown, expired or revoked")
            return page(errors: errors)
        }
        guard principal.isAdmin || (principal.role == .user && principal.userId != nil) else {
            errors.add("token", "Sign in with an admin token or a user token; service tokens have no console pages")
            return page(errors: errors)
        }
        let cookie = try await pages.sessions.signIn(principal, request: request)
        var response = ConsoleRenderer.redirect(Self.home(principal))
        response.setCookie(cookie)
        return response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let viewer = await pages.sessions.viewer(request) {
            let form = try await ConsoleForm.read(request)
            guard let sent = form["csrf"], SecretComparison.equal(sent, viewer.csrf) else { throw ConsoleMiddleware.crossSiteRefusal }
        }
        let cookie = await pages.sessions.signOut(request: request)
        var response = ConsoleRenderer.redirect("/console?signedOut=1")
        response.setCookie(cookie)
        return response
    }

    /// The typed token is never written back into the page.
    private func page(errors: FieldErrors, notice: String? = nil) -> Response {
        var data: [String: Any] = [
            "fields": [ConsoleField.text("token", "Access token", value: nil, error: errors["token"], type: "password", autocomplete: "off")]
        ]
        if let signOn { data["signOn"] = signOn }
        return pages.renderer.page(
            "sign-in", title: "Sign in", viewer: nil, status: errors.isEmpty ? .ok : .unauthorized, errors: errors, notice: notice, data)
    }
}
