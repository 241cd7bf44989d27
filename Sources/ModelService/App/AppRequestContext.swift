import Foundation
import Hummingbird

/// The per-request context: Hummingbird's core storage plus the authenticated caller.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``; nil only on the routes that need no token.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// Largest request body for this route: set by ``BodyLimitMiddleware`` per route group
    /// (`/api/*` small, `/v1/*` large because chats may carry images); the small limit otherwise.
    public var maxBodyBytes = 1024 * 1024

    public var maxUploadSize: Int { maxBodyBytes }

    /// The caller, for handlers behind ``AuthMiddleware``.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthorized() }
        return principal
    }

    public func requireAdmin() throws -> Principal {
        let principal = try requirePrincipal()
        guard principal.isAdmin else { throw APIError.forbidden() }
        return principal
    }
}
