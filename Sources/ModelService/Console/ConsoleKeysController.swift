import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/keys` (admin): every stored key, masked, with its status; add a shared key, re-validate,
/// deactivate. Through ``KeyVault`` with the admin's own access, so each action is audited as the API's.
struct ConsoleKeysController {
    let pages: ConsolePages
    let vault: KeyVault
    let registry: ModelRegistry

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("keys", use: list)
        group.post("keys", use: addShared)
        group.post("keys/{id}/validate", use: revalidate)
        group.post("keys/{id}/deactivate", use: deactivate)
        group.post("keys/{id}/activate", use: activate)
    }

    static let notices = [
        "added": "The shared key was added.", "valid": "The provider accepted the key.", "rejected": "The provider rejected the key; it is marked invalid.",
        "not_checked": "This provider cannot check keys.", "deactivated": "The key was deactivated.", "activated": "The key was activated.",
    ]

    /// The one word the Keys and Settings pages show for a key.
    static func status(_ key: APIKey) -> String {
        if key.status == APIKey.statusUndecryptable { return "undecryptable" }
        if !key.isActive { return "inactive" }
        switch key.isValid {
        case true?: return "valid"
        case false?: return "invalid"
        case nil: return "not checked"
        }
    }

    static func lastUsed(_ key: APIKey) -> String {
        key.lastUsedAt.map { String($0.prefix(16)).replacingOccurrences(of: "T", with: " ") } ?? "never"
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        return try await page(viewer: viewer, form: ConsoleForm(values: ["keyName": "default"]), errors: FieldErrors(),
                              notice: request.uri.queryParameters.get("done").flatMap { Self.notices[$0] })
    }

    @Sendable func addShared(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        var errors = FieldErrors(labels: ["keyName": "Key name", "apiKey": "API key"])
        let provider = form.text("provider").flatMap { ProviderKind(name: $0) }
        if provider == nil { errors.add("provider", "Choose a provider") }
        let keyName = errors.check("keyName") { () throws(ServiceError) in try APIKeyController.keyName(form["keyName"] ?? "") }
        let apiKey = errors.check("apiKey") { () throws(ServiceError) in try APIKeyController.apiKey(Secret(form["apiKey"] ?? "")) }
        // An OpenAI-compatible key is bound to the base URL of the server chosen (``CompatibleServerKey``).
        let binding = provider.flatMap { provider in
            errors.check("server") { () throws(ServiceError) in
                try CompatibleServerKey.binding(
                    provider: provider, server: provider == .openaiCompatible ? form.text("server") : nil, endpoint: nil, keyName: keyName,
                    registry: registry)
            }
        }
        if errors.isEmpty, let provider, let binding, let apiKey {
            let access = KeyAccess(principal: viewer.principal)
            do {
                let owner = try access.ownerForNewKey(userId: nil, shared: true)
                let new = KeyVault.NewKey(owner: owner, provider: provider, keyName: binding.keyName, apiKey: apiKey, endpoint: binding.endpoint)
                _ = try await vault.create(new, actor: .init(viewer.principal))
                return ConsoleRenderer.redirect("/console/keys?done=added")
            } catch let error as ServiceError where error.status < 500 || error.code == "provider_unreachable" {
                errors.add(error.code == "conflict" ? "keyName" : "apiKey", error.message)
            }
        }
        var kept = form
        kept.values["apiKey"] = nil
        return try await page(viewer: viewer, form: kept, errors: errors, status: .unprocessableContent)
    }

    @Sendable func revalidate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let id = try context.parameters.require("id")
        let report = try await vault.validateStored(id: id, access: KeyAccess(principal: viewer.principal), actor: .init(viewer.principal))
        return ConsoleRenderer.redirect("/console/keys?done=\(Self.notices[report.result] == nil ? "valid" : report.result)")
    }

    @Sendable func deactivate(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setActive(request, context, false)
    }

    @Sendable func activate(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setActive(request, context, true)
    }

    private func setActive(_ request: Request, _ context: AppRequestContext, _ active: Bool) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        let id = try context.parameters.require("id")
        _ = try await vault.update(id: id, changes: .init(isActive: active), access: KeyAccess(principal: viewer.principal), actor: .init(viewer.principal))
        return ConsoleRenderer.redirect("/console/keys?done=\(active ? "activated" : "deactivated")")
    }

    private func page(viewer: ConsoleViewer, form: ConsoleForm, errors: FieldErrors, notice: String? = nil, status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let keys = try await vault.list(.init())
        let servers = CompatibleServer.servers(in: registry.models(provider: .openaiCompatible))
        let rows: [[String: Any]] = keys.map { key in
            [
                "id": key.id, "owner": key.userId ?? "Shared", "provider": Self.providerLabel(key, servers: servers), "keyName": key.keyName,
                "masked": key.keyPrefix, "status": Self.status(key), "lastUsed": Self.lastUsed(key), "usageCount": key.usageCount,
                "isActive": key.isActive,
            ]
        }
        let fields: [[String: Any]] = [
            ConsoleField.select("provider", "Provider", options: ProviderKind.consoleOptions(selected: form["provider"]), error: errors["provider"]),
            ConsoleField.select(
                "server", "OpenAI-compatible server",
                options: [["value": "", "label": "—"]] + servers.map { ["value": $0.name, "label": "\($0.name) (\($0.baseURL))", "selected": $0.name == form["server"]] },
                error: errors["server"]),
            ConsoleField.text("keyName", "Key name", value: form["keyName"], error: errors["keyName"]),
            ConsoleField.text("apiKey", "API key", value: nil, error: errors["apiKey"], hint: "Checked with the provider before it is stored.",
                              type: "password", autocomplete: "off"),
        ]
        return pages.renderer.page(
            "keys", title: "Keys", viewer: viewer, current: "/console/keys", status: errors.isEmpty ? status : .unprocessableContent, errors: errors,
            notice: notice, ["keys": rows, "count": keys.count, "fields": fields]
        )
    }

    /// The provider as the table shows it; an OpenAI-compatible key with the server its endpoint belongs to.
    static func providerLabel(_ key: APIKey, servers: [CompatibleServer]) -> String {
        guard key.provider == .openaiCompatible, let endpoint = key.endpoint else { return key.provider.consoleName }
        let server = servers.first { $0.isServed(at: endpoint) }
        return "\(key.provider.consoleName): \(server?.name ?? endpoint)"
    }
}
