import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/users/me/keys`: a user token lists its keys and sets its key for a provider (the ADR's settings flow).
struct UserKeyController {
    let vault: KeyVault
    let registry: ModelRegistry

    struct PutRequest: Decodable {
        var apiKey: Secret?
        /// Bedrock: an AWS key pair and its region instead of `apiKey`; Vertex AI: `serviceAccount` (``ProviderKeyFields``).
        var accessKeyId: String?
        var secretAccessKey: Secret?
        var sessionToken: Secret?
        var serviceAccount: JSONValue?
        var project: String?
        var region: String?
        var keyName: String?
        var metadata: [String: JSONValue]?
        var endpoint: String?
        var baseURL: String?
        /// An OpenAI-compatible key's server, by name (``CompatibleServerKey``).
        var server: String?
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get(use: list)
        group.put("{provider}", use: put)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[APIKey]> {
        let access = KeyAccess(principal: try context.requirePrincipal())
        return JSONResponse(try await vault.list(.init(owner: try access.ownUserId())))
    }

    /// Replaces the user's key of that name for the provider (re-validated, re-activated), or adds it.
    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<APIKey> {
        let access = KeyAccess(principal: try context.requirePrincipal())
        let userId = try access.ownUserId()
        let name = try context.parameters.require("provider")
        guard let provider = ProviderKind(name: name) else { throw ServiceError.invalidField("provider", "must be one of \(ProviderKind.knownList)") }
        let body = try await request.decodeJSON(as: PutRequest.self, context: context)
        let binding = try CompatibleServerKey.binding(
            provider: provider, server: body.server, endpoint: try APIKeyController.endpoint(body.endpoint, baseURL: body.baseURL),
            keyName: body.keyName, registry: registry)
        let fields = ProviderKeyFields(
            apiKey: body.apiKey, accessKeyId: body.accessKeyId, secretAccessKey: body.secretAccessKey, sessionToken: body.sessionToken, region: body.region,
            serviceAccount: body.serviceAccount, project: body.project)
        let credential = try fields.credential(for: provider, endpoint: binding.endpoint, metadata: body.metadata, endpoints: vault.validator.endpoints)
        let (key, created) = try await vault.setUserKey(
            userId: userId, provider: provider, keyName: binding.keyName, apiKey: credential.secret, metadata: credential.metadata, endpoint: credential.endpoint,
            access: access
        )
        return JSONResponse(key, status: created ? .created : .ok)
    }
}
