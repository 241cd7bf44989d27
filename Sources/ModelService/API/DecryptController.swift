import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `GET /api/api-keys/{id}/decrypt`: the one response that carries a plaintext key, for internal services.
///
/// It answers only to `x-internal-secret` equal to `INTERNAL_SECRET` (constant-time); a bearer token
/// is not enough. Missing, wrong and unconfigured secrets get byte-identical 401s; past a small limit
/// per client address, 429s. Every successful call is audited; refusals are audited in aggregate
/// (``DecryptRefusals``).
struct DecryptController {
    let vault: KeyVault
    let internalSecret: Secret?
    let refusals: DecryptRefusals

    struct Decrypted: Encodable {
        var id: String
        var userId: String?
        var provider: ProviderKind
        var keyName: String
        var apiKey: String
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("/api/api-keys/{id}/decrypt", use: decrypt)
    }

    static let refusal = ServiceError(.unauthorized, "A valid x-internal-secret header is required.")

    @Sendable func decrypt(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let source = context.clientAddress
        if let wait = refusals.retryAfter(source: source) {
            refusals.record(source: source, keyId: id)
            throw ServiceError.refusal(.rateLimited, "Too many refused decrypt attempts from this address; retry later.", retryAfterSeconds: wait)
        }
        let presented = request.headers[values: .internalSecret].first ?? ""
        // Compare even when unset or missing, so the time taken says nothing about which it was.
        let expected = internalSecret?.reveal ?? ""
        let matches = SecretComparison.equal(presented, expected)
        guard internalSecret != nil, !presented.isEmpty, matches else {
            refusals.record(source: source, keyId: id)
            throw Self.refusal
        }
        let (record, secret) = try await vault.decrypt(id: id, actor: AuditLog.Actor.internalSecret.with(requestId: context.requestId))
        let body = Decrypted(id: record.id, userId: record.userId, provider: record.provider, keyName: record.keyName, apiKey: secret.reveal)
        var response = try JSONResponse(body).response(from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension HTTPField.Name {
    static let internalSecret = Self("x-internal-secret")!
}
