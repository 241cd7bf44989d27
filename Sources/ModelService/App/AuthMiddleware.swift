import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

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
            return try await next(request, try authenticated(context, token: Secret(Self.trimmed(Substring(key)))))
        }
        guard let header = request.headers[.authorization] else { throw ServiceError.unauthorized() }
        let scheme = header.utf8.prefix(7)
        guard header.utf8.count > 7, scheme.prefix(6).lazy.map({ $0 | 0x20 }).elementsEqual("bearer".utf8), scheme.last == UInt8(ascii: " ")
        else { throw ServiceError.unauthorized() }
        let token = Secret(Self.trimmed(header.dropFirst(7)))
        return try await next(request, try authenticated(context, token: token))
    }

    /// Without spaces and tabs at either end (Foundation's `trimmingCharacters` cost ~30k instructions a call).
    private static func trimmed(_ text: Substring) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }

    private func authenticated(_ context: Context, token: Secret) throws -> Context {
        guard let principal = tokens.authenticate(token) else { throw ServiceError.unauthorized() }
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
