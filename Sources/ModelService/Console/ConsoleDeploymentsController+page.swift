import Foundation
import Hummingbird
import ModelServiceCore

extension ConsoleDeploymentsController {
    /// The page: the routing form, the deployments' table, and the add (or edit) form.
    func page(
        viewer: ConsoleViewer, model: Model, form: ConsoleForm, errors: FieldErrors, notice: String? = nil, editing: Deployment? = nil
    ) -> Response {
        let strategies = Routing.Strategy.allCases.map {
            ["value": $0.rawValue, "label": Self.strategyLabel($0), "selected": $0 == model.routing.strategy] as [String: Any]
        }
        var data: [String: Any] = [
            "modelId": model.id, "modelName": model.name, "deployments": rows(for: model), "strategies": strategies,
            "affinity": model.routing.promptCacheAffinity, "fields": Self.layout(form, errors: errors),
            "formAction": editing.map { "/console/models/\(model.id)/deployments/\($0.id)" } ?? "/console/models/\(model.id)/deployments",
            "formTitle": editing.map { "Change deployment \($0.id)" } ?? "Add a deployment",
            "submitLabel": editing == nil ? "Add deployment" : "Save deployment", "editing": editing != nil,
        ]
        if let strategyError = errors["strategy"] { data["strategyError"] = strategyError }
        return pages.renderer.page(
            "deployments", title: "Deployments of \(model.name)", viewer: viewer, current: "/console/models",
            status: errors.isEmpty ? .ok : .unprocessableContent, errors: errors, notice: notice, data)
    }

    /// A row per deployment: where it calls, its weight, its share of this instance's recent calls, and its state.
    func rows(for model: Model) -> [[String: Any]] {
        let circuits = Dictionary(traffic.circuitStatuses().compactMap { status in status.deployment.map { ($0, status) } }, uniquingKeysWith: { a, _ in a })
        let recent = model.deployments.map { traffic.router.status($0.id)?.recentCalls ?? 0 }
        let total = recent.reduce(0, +)
        return zip(model.deployments, recent).map { deployment, calls in
            let called = model.deployed(on: deployment)
            let circuit = circuits[deployment.id]
            let room = traffic.router.status(deployment.id)
            var state = deployment.isActive ? "active" : "inactive"
            if deployment.isActive, let circuit, circuit.state != .closed { state = "circuit \(circuit.state.rawValue.replacingOccurrences(of: "_", with: "-"))" }
            if deployment.isActive, let until = room?.exhaustedUntil { state = "out of room until \(until.dropFirst(11).prefix(8))" }
            return [
                "id": deployment.id, "provider": called.provider.consoleName, "endpoint": endpoints.baseURL(for: called), "upstream": called.modelId,
                "keySource": Self.keySource(deployment, called: called), "weight": deployment.weight, "region": deployment.region ?? "",
                "share": total > 0 ? String(format: "%.0f%%", calls / total * 100) : "no calls yet", "state": state,
                "stateClass": state == "active" ? "ok" : "off", "isActive": deployment.isActive,
            ]
        }
    }

    static func strategyLabel(_ strategy: Routing.Strategy) -> String {
        switch strategy {
        case .weighted: "Weighted (at random, by weight)"
        case .leastBusy: "Least busy (fewest calls in flight)"
        case .latency: "Latency (fastest first byte)"
        case .headroom: "Headroom (most room left)"
        }
    }

    static func keySource(_ deployment: Deployment, called: Model) -> String {
        if let keyId = deployment.keyId { return "stored key \(keyId)" }
        if deployment.keyPool == .shared { return "shared key pool" }
        if let variable = deployment.apiKeyEnvVar { return "variable \(variable)" }
        return "user, shared or \(called.fallbackKeyEnvVar ?? "none")"
    }

    static func layout(_ form: ConsoleForm, errors: FieldErrors) -> [[String: Any]] {
        let providers = [["value": "", "label": "The model's provider", "selected": (form["provider"] ?? "").isEmpty] as [String: Any]]
            + ProviderKind.consoleOptions(selected: form["provider"])
        return [
            ConsoleField.select("provider", "Provider", options: providers, error: errors["provider"]),
            ConsoleField.text("baseURL", "Endpoint", value: form["baseURL"], error: errors["baseURL"],
                              hint: "For example https://eastus.openai.azure.com; empty: the model's.", type: "url"),
            ConsoleField.text("modelId", "Upstream model ID", value: form["modelId"], error: errors["modelId"],
                              hint: "The provider's name for the model (Azure: the deployment name); empty: the model's."),
            ConsoleField.text("keyId", "Stored key id", value: form["keyId"], error: errors["keyId"], hint: "A shared key from Keys; leave empty otherwise."),
            ConsoleField.checkbox("keyPool", "Spread calls over every shared key of the provider (a key answering 429 rests)", checked: form.checked("keyPool")),
            ConsoleField.text("apiKeyEnvVar", "Key variable", value: form["apiKeyEnvVar"], error: errors["apiKeyEnvVar"],
                              hint: "A server variable holding this deployment's key, for example AZURE_EASTUS_API_KEY."),
            ConsoleField.text("weight", "Weight", value: form["weight"], error: errors["weight"], hint: "From 1 to 1000: its share of calls under the weighted strategy."),
            ConsoleField.text("region", "Region", value: form["region"], error: errors["region"]),
            ConsoleField.text("rateLimitPerMinute", "Requests per minute", value: form["rateLimitPerMinute"], error: errors["rateLimitPerMinute"],
                              hint: "This deployment's own quota; at it, others are chosen first."),
            ConsoleField.text("tokenLimitPerMinute", "Tokens per minute", value: form["tokenLimitPerMinute"], error: errors["tokenLimitPerMinute"]),
        ]
    }

    static func values(of deployment: Deployment) -> ConsoleForm {
        var values: [String: String] = ["weight": String(deployment.weight)]
        values["provider"] = deployment.provider?.rawValue
        values["baseURL"] = deployment.baseURL
        values["modelId"] = deployment.modelId
        values["keyId"] = deployment.keyId
        values["keyPool"] = deployment.keyPool == .shared ? "true" : nil
        values["apiKeyEnvVar"] = deployment.apiKeyEnvVar
        values["region"] = deployment.region
        values["rateLimitPerMinute"] = deployment.rateLimitPerMinute.map { String($0) }
        values["tokenLimitPerMinute"] = deployment.tokenLimitPerMinute.map { String($0) }
        return ConsoleForm(values: values)
    }

    /// The posted form as the fields `/api/models/{id}/deployments` decodes; an empty field follows the model.
    static func fields(from form: ConsoleForm, creating: Bool, errors: inout FieldErrors) -> DeploymentFields {
        var fields = DeploymentFields()
        func text(_ name: String) -> FieldUpdate<String> { form.textUpdate(name, creating: creating) }
        func integer(_ name: String) -> FieldUpdate<Int> { form.integerUpdate(name, creating: creating, errors: &errors) }
        fields.provider = text("provider")
        fields.baseURL = text("baseURL")
        fields.modelId = text("modelId")
        fields.keyId = text("keyId")
        fields.keyPool = form.checked("keyPool") ? .set("shared") : (creating ? .unchanged : .set(nil))
        fields.apiKeyEnvVar = text("apiKeyEnvVar")
        fields.region = text("region")
        fields.rateLimitPerMinute = integer("rateLimitPerMinute")
        fields.tokenLimitPerMinute = integer("tokenLimitPerMinute")
        if case .set(let weight) = integer("weight") { fields.weight = .set(weight ?? 1) }
        return fields
    }
}
