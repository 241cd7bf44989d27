import Foundation
import Hummingbird

/// The per-request context: Hummingbird's core storage plus the authenticated caller.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``; nil only on the routes that need no token.
    public var principal: Principal?
    /// Set by ``RequestIdMiddleware``; shared by the response header, logs, audit rows and traces.
    public var requestId: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        requestId = UUID().uuidString.lowercased()
    }

    /// Chat requests may carry images as data URLs.
    public var maxUploadSize: Int { 32 * 1024 * 1024 }

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
