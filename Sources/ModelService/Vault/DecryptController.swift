import Foundation
import HTTPTypes
import Hummingbird

/// `GET /api/api-keys/{id}/decrypt`: the one response that carries a plaintext key, for internal services.
///
/// It answers only to `x-internal-secret` equal to `INTERNAL_SECRET` (constant-time); a bearer token
/// is not enough. Missing, wrong and unconfigured secrets get byte-identical 401s, and every call,
/// refused or not, is audited.
struct DecryptController {
    let vault: KeyVault
    let internalSecret: Secret?

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

    static let refusal = APIError(.unauthorized, code: "unauthorized", message: "A valid x-internal-secret header is required.")

    @Sendable func decrypt(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let presented = request.headers[values: .internalSecret].first ?? ""
        // Compare even when unset or missing, so the time taken says nothing about which it was.
        let expected = internalSecret?.reveal ?? ""
        let matches = SecretComparison.equal(presented, expected)
        guard internalSecret != nil, !presented.isEmpty, matches else {
            try await vault.recordRefusedDecrypt(id: id, requestId: context.requestId)
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
