import Foundation
import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <token>` (or, where `acceptsAPIKeyHeader`, `x-api-key: <token>`)
/// and puts the caller in the context.
///
/// A missing, malformed, unknown, expired or revoked token all get the one same 401, so the answer
/// tells an attacker nothing about which tokens exist.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let tokens: AccessTokenStore
    /// Anthropic's clients send the token as `x-api-key`; only the `/v1/messages` door accepts it.
    let acceptsAPIKeyHeader: Bool

    public init(tokens: AccessTokenStore, acceptsAPIKeyHeader: Bool = false) {
        self.tokens = tokens
        self.acceptsAPIKeyHeader = acceptsAPIKeyHeader
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if acceptsAPIKeyHeader, request.headers[.authorization] == nil, let key = request.headers[.xAPIKey] {
            return try await next(request, try authenticated(context, token: Secret(key.trimmingCharacters(in: .whitespaces))))
        }
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized() }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else { throw APIError.unauthorized() }
        let token = Secret(String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
        return try await next(request, try authenticated(context, token: token))
    }

    private func authenticated(_ context: Context, token: Secret) throws -> Context {
        guard let principal = tokens.authenticate(token) else { throw APIError.unauthorized() }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "token.id"] = .string(principal.tokenId)
        return context
    }
}

extension HTTPField.Name {
    /// Anthropic's authentication header, accepted on `/v1/messages*` only.
    static let xAPIKey = Self("x-api-key")!
}
