import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/settings` (user, seed 001 phase 4): one key card per provider that has an active model
/// in the registry. Saving validates the key live and stores it through the same vault call as
/// `PUT /api/users/me/keys/{provider}`; a rejected key is refused next to its field, nothing stored.
struct ConsoleSettingsController {
    let pages: ConsolePages
    let registry: ModelRegistry
    let vault: KeyVault
    static let keyName = "default"

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("settings", use: show)
        group.post("settings/{provider}", use: save)
        group.post("settings/{provider}/delete", use: delete)
    }

    /// The providers the page offers: those with at least one active model, in a fixed order.
    func providers() -> [ProviderKind] {
        let active = Set(registry.models(isActive: true).map(\.provider))
        return ProviderKind.allCases.filter(active.contains)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .user)
        let done = request.uri.queryParameters.get("done")
        let notice = done == "saved" ? "Your key was checked with the provider and saved." : (done == "deleted" ? "Your key was deleted." : nil)
        return try await page(viewer: viewer, errors: FieldErrors(), notice: notice)
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .user)
        let provider = try provider(context)
        let access = KeyAccess(principal: viewer.principal)
        let field = "apiKey-\(provider.rawValue)"
        var errors = FieldErrors()
        do {
            let apiKey = provider == .vertex
                ? try ProviderCredentialInput.secret(
                    provider: .vertex, apiKey: form.text("apiKey-vertex").map { Secret($0) }, project: form.text("project-vertex"), region: form.text("region-vertex"))
                : try APIKeyController.apiKey(Secret(form["apiKey"] ?? ""))
            _ = try await vault.setUserKey(
                userId: try access.ownUserId(), provider: provider, keyName: Self.keyName, apiKey: apiKey, metadata: nil, access: access
            )
            return ConsoleRenderer.redirect("/console/settings?done=saved")
        } catch let error as ServiceError where provider == .vertex && (error.status < 500 || error.code == "provider_unreachable") {
            errors.add(Self.vertexField(error.field), error.message)
        } catch let error as ServiceError where error.status < 500 || error.code == "provider_unreachable" {
            let message = error.code == "invalid_field" ? "Enter your \(provider.consoleName) API key: " + (error.message.split(separator: ":", maxSplits: 1).last
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? "") : error.message
            errors.add(field, message)
        }
        return try await page(viewer: viewer, errors: errors)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .user)
        let provider = try provider(context)
        let access = KeyAccess(principal: viewer.principal)
        let keys = try await vault.list(.init(owner: try access.ownUserId(), provider: provider))
        guard let key = keys.first(where: { $0.keyName == Self.keyName }) else { throw ServiceError.notFound("API key") }
        try await vault.delete(id: key.id, access: access, actor: .init(viewer.principal))
        return ConsoleRenderer.redirect("/console/settings?done=deleted")
    }

    private func provider(_ context: AppRequestContext) throws -> ProviderKind {
        guard let name = context.parameters.get("provider"), let provider = ProviderKind(name: name), providers().contains(provider) else {
            throw ServiceError.notFound("provider")
        }
        return provider
    }

    private func page(viewer: ConsoleViewer, errors: FieldErrors, notice: String? = nil) async throws -> Response {
        let userId = try KeyAccess(principal: viewer.principal).ownUserId()
        let keys = try await vault.list(.init(owner: userId))
        let cards: [[String: Any]] = providers().map { provider in
            let field = "apiKey-\(provider.rawValue)"
            var card: [String: Any] = [
                "provider": provider.rawValue, "name": provider.consoleName,
                "field": ConsoleField.text(field, "\(provider.consoleName) API key", value: nil, error: errors[field], type: "password", autocomplete: "off"),
            ]
            if provider == .vertex { card["serviceAccount"] = Self.vertexFields(errors: errors) }
            if let key = keys.first(where: { $0.provider == provider && $0.keyName == Self.keyName }) {
                card["stored"] = ["masked": key.keyPrefix, "status": ConsoleKeysController.status(key), "lastUsed": ConsoleKeysController.lastUsed(key)]
            }
            return card
        }
        return pages.renderer.page(
            "settings", title: "Settings", viewer: viewer, current: "/console/settings", status: errors.isEmpty ? .ok : .unprocessableContent,
            errors: errors, notice: notice, ["cards": cards, "userId": userId]
        )
    }
}
