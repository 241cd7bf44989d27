import Foundation
import Hummingbird

/// Requires `Authorization: Bearer <token>` and puts the caller in the context.
///
/// A missing, malformed, unknown, expired or revoked token all get the one same 401, so the answer
/// tells an attacker nothing about which tokens exist.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let tokens: AccessTokenStore

    public init(tokens: AccessTokenStore) {
        self.tokens = tokens
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized() }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else { throw APIError.unauthorized() }
        let token = Secret(String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
        guard let principal = tokens.authenticate(token) else { throw APIError.unauthorized() }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "token.id"] = .string(principal.tokenId)
        return try await next(request, context)
    }
}
