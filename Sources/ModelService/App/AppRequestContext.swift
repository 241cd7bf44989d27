import Foundation
import Hummingbird
import NIOCore
import ModelServiceCore

/// The per-request context: Hummingbird's core storage plus the authenticated caller.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``; nil only on the routes that need no token.
    public var principal: Principal?
    /// The peer of the connection (nil in in-process tests); decrypt refusals are limited by it.
    public let remoteAddress: SocketAddress?
    /// Set from a safe incoming `X-Request-Id` by ``RequestIdMiddleware``; a fresh id otherwise.
    public var requestId: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        remoteAddress = source.channel.remoteAddress
        requestId = RandomIdentifier.timeOrderedUUID()
    }

    /// The client's IP address as text (no port), or `unknown`.
    public var clientAddress: String {
        remoteAddress?.ipAddress ?? "unknown"
    }

    /// Largest request body for this route: set by ``BodyLimitMiddleware`` per route group
    /// (`/api/*` small, `/v1/*` large because chats may carry images); the small limit otherwise.
    public var maxBodyBytes = 1024 * 1024

    public var maxUploadSize: Int { maxBodyBytes }

    /// The caller, for handlers behind ``AuthMiddleware``.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw ServiceError.unauthorized() }
        return principal
    }

    public func requireAdmin() throws -> Principal {
        let principal = try requirePrincipal()
        guard principal.isAdmin else { throw ServiceError.forbidden() }
        return principal
    }
}
