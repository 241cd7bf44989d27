import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// `/console/tokens` (admin): create (the secret is shown on the next page only), list, revoke;
/// through ``AccessTokenStore`` with the checks `/api/tokens` makes.
struct ConsoleTokensController {
    let pages: ConsolePages
    let tokens: AccessTokenStore

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("tokens", use: list)
        group.post("tokens", use: create)
        group.post("tokens/{id}/revoke", use: revoke)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try await pages.viewer(request, .admin)
        let notice = request.uri.queryParameters.get("done") == "revoked" ? "The token was revoked." : nil
        return try await page(viewer: viewer, form: ConsoleForm(values: ["role": "user"]), errors: FieldErrors(), notice: notice)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, form) = try await pages.form(request, .admin)
        var errors = FieldErrors(labels: [
            "name": "Token name", "userId": "User ID", "expiresOn": "Expires on", "models": "Models", "rateLimitPerMinute": "Requests per minute",
            "tokenLimitPerMinute": "Tokens per minute",
        ])
        let role = form.text("role").flatMap(AccessRole.init(rawValue:))
        if role == nil { errors.add("role", "Choose a role") }
        errors.check("name") { () throws(ServiceError) in try TokenController.validateName(form.text("name")) }
        var userId: String?
        if let role {
            userId = errors.check("userId") { () throws(ServiceError) in try TokenController.validateUserId(form.text("userId"), role: role) } ?? nil
        }
        var expiry: Date?
        if let text = form.text("expiresOn") {
            if let date = Clock.parseISO8601(text + "T00:00:00Z"), date > Date() { expiry = date } else { errors.add("expiresOn", "must be a date in the future, as YYYY-MM-DD") }
        }
        // The model list as typed: names and provider/* patterns, separated by commas or spaces.
        let models = form.text("models").map { $0.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init) }
        var perMinute: [String: Int] = [:]
        for field in ["rateLimitPerMinute", "tokenLimitPerMinute"] {
            guard let raw = form.text(field) else { continue }
            if let value = Int(raw) { perMinute[field] = value } else { errors.add(field, "must be a whole number") }
        }
        let limits: AccessTokenStore.Limits? = errors.check("models") { () throws(ServiceError) in
            try TokenController.limits(
                models: models, rateLimitPerMinute: perMinute["rateLimitPerMinute"], tokenLimitPerMinute: perMinute["tokenLimitPerMinute"])
        }
        guard errors.isEmpty, let role, let limits else {
            return try await page(viewer: viewer, form: form, errors: errors)
        }
        let (record, secret) = try await tokens.create(
            role: role, userId: userId, name: form.text("name"), expiresAt: expiry, limits: limits, actor: .init(viewer.principal))
        var data: [String: Any] = ["secret": secret.reveal, "name": record.name, "role": record.role.rawValue]
        if let userId = record.userId { data["userId"] = userId }
        return pages.renderer.page("token-created", title: "Token created", viewer: viewer, current: "/console/tokens", data)
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, _) = try await pages.form(request, .admin)
        guard let id = context.parameters.get("id"), try await tokens.revoke(id: id, actor: .init(viewer.principal)) else { throw ServiceError.notFound("token") }
        return ConsoleRenderer.redirect("/console/tokens?done=revoked")
    }

    private func page(viewer: ConsoleViewer, form: ConsoleForm, errors: FieldErrors, notice: String? = nil) async throws -> Response {
        let now = Clock.nowMillis()
        let rows: [[String: Any]] = try await tokens.list().reversed().map { token in
            let state = token.revokedAt != nil ? "revoked" : (token.isUsable(atMillis: now) ? "active" : "expired")
            return [
                "id": token.id, "name": token.name, "role": token.role.rawValue, "userId": token.userId ?? "", "prefix": token.tokenPrefix,
                "state": state, "active": state == "active", "created": String(token.createdAt.prefix(10)),
                "expires": token.expiresAt.map { String($0.prefix(10)) } ?? "never", "models": token.models?.joined(separator: ", ") ?? "all",
            ]
        }
        let roles = AccessRole.allCases.map { ["value": $0.rawValue, "label": $0.rawValue.capitalized, "selected": $0.rawValue == form["role"]] as [String: Any] }
        let fields: [[String: Any]] = [
            ConsoleField.text("name", "Token name", value: form["name"], error: errors["name"], hint: "Who or what will use it, for example \"CI pipeline\"."),
            ConsoleField.select("role", "Role", options: roles, error: errors["role"]),
            ConsoleField.text("userId", "User ID", value: form["userId"], error: errors["userId"], hint: "Required for a user token; leave empty for admin and service tokens."),
            ConsoleField.text("expiresOn", "Expires on", value: form["expiresOn"], error: errors["expiresOn"], hint: "Optional, as YYYY-MM-DD.", type: "date"),
            ConsoleField.text(
                "models", "Models", value: form["models"], error: errors["models"],
                hint: "Optional: the models it may call, as registry names or patterns such as anthropic/*, separated by commas. Empty: every model."),
            ConsoleField.text(
                "rateLimitPerMinute", "Requests per minute", value: form["rateLimitPerMinute"], error: errors["rateLimitPerMinute"],
                hint: "Optional: its own limit over every model it calls."),
            ConsoleField.text("tokenLimitPerMinute", "Tokens per minute", value: form["tokenLimitPerMinute"], error: errors["tokenLimitPerMinute"], hint: "Optional."),
        ]
        return pages.renderer.page(
            "tokens", title: "Tokens", viewer: viewer, current: "/console/tokens", status: errors.isEmpty ? .ok : .unprocessableContent,
            errors: errors, notice: notice, ["tokens": rows, "fields": fields]
        )
    }
}
