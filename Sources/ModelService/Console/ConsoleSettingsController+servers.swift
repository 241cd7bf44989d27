import Foundation
import Hummingbird
import ModelServiceCore

/// The OpenAI-compatible cards of the settings page: one per server (``CompatibleServer``), each storing the user's
/// key bound to that server's base URL, so it is sent to no other server.
extension ConsoleSettingsController {
    /// The servers the page offers: those of the active models.
    func servers() -> [CompatibleServer] {
        CompatibleServer.servers(in: registry.models(provider: .openaiCompatible, isActive: true))
    }

    func serverCards(keys: [APIKey], errors: FieldErrors) -> [[String: Any]] {
        servers().map { server in
            let slug = "server-\(server.name)"
            let id = "apiKey-\(slug)"
            let field: [String: Any?] = [
                "id": id, "input": "apiKey", "label": "\(server.name) API key", "error": errors[id], "type": "password",
                "hint": server.apiKeyEnvVar.map { "Without one, the server's \($0) is used if it is set." },
            ]
            var card: [String: Any] = [
                "provider": slug, "name": "\(server.name) (OpenAI-compatible)", "action": "/console/settings/openai-compatible/\(server.name)",
                "endpoint": server.baseURL, "fields": [field.compactMapValues { $0 }],
            ]
            if let key = Self.storedKey(in: keys, for: server) {
                card["stored"] = ["masked": key.keyPrefix, "status": ConsoleKeysController.status(key), "lastUsed": ConsoleKeysController.lastUsed(key)]
            }
            return card
        }
    }

    @Sendable func saveServerKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .user)
        let server = try server(context, form)
        let access = KeyAccess(principal: viewer.principal)
        var errors = FieldErrors()
        do {
            let binding = try CompatibleServerKey.binding(
                provider: .openaiCompatible, server: server.name, endpoint: server.baseURL, keyName: nil, registry: registry)
            let credential = try ProviderKeyFields(apiKey: Secret(form["apiKey"] ?? "")).credential(
                for: .openaiCompatible, endpoint: binding.endpoint, metadata: nil, endpoints: vault.validator.endpoints)
            _ = try await vault.setUserKey(
                userId: try access.ownUserId(), provider: .openaiCompatible, keyName: binding.keyName, apiKey: credential.secret, metadata: nil,
                endpoint: credential.endpoint, access: access)
            return ConsoleRenderer.redirect("/console/settings?done=saved")
        } catch let error as ServiceError where error.status < 500 || error.code == "provider_unreachable" {
            errors.add("apiKey-server-\(server.name)", error.message)
        }
        return try await page(viewer: viewer, errors: errors)
    }

    @Sendable func deleteServerKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .user)
        let server = try server(context, form)
        let access = KeyAccess(principal: viewer.principal)
        let keys = try await vault.list(.init(owner: try access.ownUserId(), provider: .openaiCompatible))
        guard let key = Self.storedKey(in: keys, for: server) else { throw ServiceError.notFound("API key") }
        try await vault.delete(id: key.id, access: access, actor: .init(viewer.principal))
        return ConsoleRenderer.redirect("/console/settings?done=deleted")
    }

    /// The card's server: its name in the path and its base URL in the form, which must be one the page offers.
    private func server(_ context: AppRequestContext, _ form: ConsoleForm) throws -> CompatibleServer {
        let name = context.parameters.get("server") ?? ""
        let endpoint = form["endpoint"] ?? ""
        guard let server = servers().first(where: { $0.name == name && $0.isServed(at: endpoint) }) else {
            throw ServiceError.notFound("OpenAI-compatible server")
        }
        return server
    }

    /// The user's key for `server`: the one stored for its base URL under its name (the name the card stores it under).
    private static func storedKey(in keys: [APIKey], for server: CompatibleServer) -> APIKey? {
        keys.first { $0.provider == .openaiCompatible && $0.keyName == server.name && $0.endpoint.map(server.isServed(at:)) == true }
    }
}
