import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// What every console controller shares: the templates and the sign-in, and the checks each page
/// makes before it shows or changes anything.
struct ConsolePages: Sendable {
    let renderer: ConsoleRenderer
    let sessions: ConsoleSessions

    enum Audience {
        /// Admin tokens only: every other signed-in caller gets a 403 page.
        case admin
        /// User tokens (bound to a user): their own keys and usage.
        case user
        /// Admins and user tokens alike (the Teams pages, which show each what it may see).
        case adminOrUser
    }

    /// The signed-in caller allowed on this page; otherwise a redirect to sign-in, or a 403 page.
    func viewer(_ request: Request, _ audience: Audience) async throws -> ConsoleViewer {
        guard let viewer = await sessions.viewer(request) else { throw ConsoleSignInRequired() }
        switch audience {
        case .admin:
            guard viewer.principal.isAdmin else { throw ServiceError.forbidden("This page is for admin tokens; you are signed in with a \(viewer.principal.role.rawValue) token.") }
        case .user:
            guard viewer.principal.role == .user, viewer.principal.userId != nil else {
                throw ServiceError.forbidden("This page is for user tokens (bound to a user); you are signed in with a \(viewer.principal.role.rawValue) token.")
            }
        case .adminOrUser:
            guard viewer.principal.isAdmin || (viewer.principal.role == .user && viewer.principal.userId != nil) else {
                throw ServiceError.forbidden("This page is for admin and user tokens; you are signed in with a \(viewer.principal.role.rawValue) token.")
            }
        }
        return viewer
    }

    /// Deepest page a list can be paged to: `(page - 1) * perPage` stays small, and OFFSET cheap enough.
    static let maxPage = 10_000

    /// The `page` query parameter, from 1 to ``maxPage``: 1 when absent or not a whole number.
    static func pageNumber(_ request: Request) -> Int {
        Saturating.clamp(Int(request.uri.queryParameters.get("page") ?? "") ?? 1, to: 1...maxPage)
    }

    /// A posted form of a signed-in caller, refused unless it carries the session's CSRF token.
    func form(_ request: Request, _ audience: Audience) async throws -> (ConsoleViewer, ConsoleForm) {
        let viewer = try await viewer(request, audience)
        let form = try await ConsoleForm.read(request)
        guard let sent = form["csrf"], SecretComparison.equal(sent, viewer.csrf) else { throw ConsoleMiddleware.crossSiteRefusal }
        return (viewer, form)
    }
}

/// Thrown by a page that needs a sign-in; answered with a redirect to the sign-in page.
struct ConsoleSignInRequired: HTTPResponseError {
    var status: HTTPResponse.Status { .seeOther }
    var headers: HTTPFields { [.location: "/console"] }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        ConsoleRenderer.redirect("/console")
    }
}
