import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/settings` (user, seed 001 phase 4): one key card per provider that has an active model
/// in the registry, and one per OpenAI-compatible server. Saving validates the key live and stores it through the same vault call as
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
        group.post("settings/openai-compatible/{server}", use: saveServerKey)
        group.post("settings/openai-compatible/{server}/delete", use: deleteServerKey)
    }

    /// The providers the page offers: those with at least one active model, in a fixed order. OpenAI-compatible
    /// servers get a card each instead (``servers()``).
    func providers() -> [ProviderKind] {
        let active = Set(registry.models(isActive: true).map(\.provider))
        return ProviderKind.allCases.filter { active.contains($0) && $0 != .openaiCompatible }
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
        var errors = FieldErrors()
        do {
            let credential = try Self.keyFields(provider, form).credential(for: provider, endpoint: nil, metadata: nil, endpoints: vault.validator.endpoints)
            _ = try await vault.setUserKey(
                userId: try access.ownUserId(), provider: provider, keyName: Self.keyName, apiKey: credential.secret, metadata: credential.metadata,
                endpoint: credential.endpoint, access: access
            )
            return ConsoleRenderer.redirect("/console/settings?done=saved")
        } catch let error as ServiceError where provider == .vertex && (error.status < 500 || error.code == "provider_unreachable") {
            errors.add(Self.vertexField(error.field), error.message)
        } catch let error as ServiceError where error.status < 500 || error.code == "provider_unreachable" {
            let inputs = Self.inputs(provider)
            let named = error.code == "invalid_field" ? inputs.first { $0.input == error.field } : nil
            let input = named ?? Self.primaryInput(provider, form)
            let problem = error.message.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            errors.add("\(input.input)-\(provider.rawValue)", named == nil ? error.message : "Enter your \(input.label): " + problem)
        }
        return try await page(viewer: viewer, errors: errors, typed: (provider, form))
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

    func page(viewer: ConsoleViewer, errors: FieldErrors, notice: String? = nil, typed: (ProviderKind, ConsoleForm)? = nil) async throws -> Response {
        let userId = try KeyAccess(principal: viewer.principal).ownUserId()
        let keys = try await vault.list(.init(owner: userId))
        let cards: [[String: Any]] = providers().map { provider in
            let kept = typed?.0 == provider ? typed?.1 : nil
            var card: [String: Any] = [
                "provider": provider.rawValue, "name": provider.consoleName, "action": "/console/settings/\(provider.rawValue)",
                "fields": Self.inputs(provider).map { input -> [String: Any] in
                    let id = "\(input.input)-\(provider.rawValue)"
                    let field: [String: Any?] = [
                        "id": id, "input": input.input, "label": input.label, "hint": input.hint, "error": errors[id],
                        "type": input.secret ? "password" : "text",
                        // Typed values come back after an error, secrets never.
                        "value": input.secret ? nil : kept?[input.input],
                    ]
                    return field.compactMapValues { $0 }
                },
            ]
            if provider == .vertex { card["serviceAccount"] = Self.vertexFields(errors: errors) }
            if let key = keys.first(where: { $0.provider == provider && $0.keyName == Self.keyName }) {
                card["stored"] = ["masked": key.keyPrefix, "status": ConsoleKeysController.status(key), "lastUsed": ConsoleKeysController.lastUsed(key)]
            }
            return card
        } + serverCards(keys: keys, errors: errors)
        return pages.renderer.page(
            "settings", title: "Settings", viewer: viewer, current: "/console/settings", status: errors.isEmpty ? .ok : .unprocessableContent,
            errors: errors, notice: notice, ["cards": cards, "userId": userId]
        )
    }

    /// One input of a key card: its form name, label, hint, and whether it is a secret (never shown again).
    struct KeyInput {
        var input: String
        var label: String
        var hint: String? = nil
        var secret: Bool
    }

    /// A provider's key inputs: its API key; Bedrock's AWS key pair, region, and an API key as the alternative.
    static func inputs(_ provider: ProviderKind) -> [KeyInput] {
        guard provider == .bedrock else { return [KeyInput(input: "apiKey", label: "\(provider.consoleName) API key", secret: true)] }
        return [
            KeyInput(input: "accessKeyId", label: "AWS access key ID", hint: "Such as AKIAIOSFODNN7EXAMPLE.", secret: false),
            KeyInput(input: "secretAccessKey", label: "AWS secret access key", secret: true),
            KeyInput(input: "sessionToken", label: "AWS session token", hint: "Only for temporary credentials; leave empty otherwise.", secret: true),
            KeyInput(input: "region", label: "AWS region", hint: "Such as us-east-1; the key is used for models in this region only.", secret: false),
            KeyInput(input: "apiKey", label: "\(provider.consoleName) API key", hint: "Instead of a key pair: a Bedrock API key.", secret: true),
        ]
    }

    /// The fields the card posted, as the key API reads them.
    static func keyFields(_ provider: ProviderKind, _ form: ConsoleForm) -> ProviderKeyFields {
        if provider == .vertex {
            // Named apart from the other cards' inputs (``vertexFields(errors:)``): an empty key file is a missing one.
            return ProviderKeyFields(
                apiKey: form.text("apiKey-vertex").map { Secret($0) }, region: form.text("region-vertex"), project: form.text("project-vertex"))
        }
        guard provider == .bedrock else { return ProviderKeyFields(apiKey: Secret(form["apiKey"] ?? "")) }
        return ProviderKeyFields(
            apiKey: form["apiKey"].map(Secret.init), accessKeyId: form["accessKeyId"], secretAccessKey: form["secretAccessKey"].map(Secret.init),
            sessionToken: form["sessionToken"].map(Secret.init), region: form["region"])
    }

    /// Where an error that names no field goes: the API key when that is what was given, else the first input.
    private static func primaryInput(_ provider: ProviderKind, _ form: ConsoleForm) -> KeyInput {
        let inputs = inputs(provider)
        let usesAPIKey = !(form["apiKey"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        return (usesAPIKey ? inputs.first { $0.input == "apiKey" } : nil) ?? inputs[0]
    }
}
