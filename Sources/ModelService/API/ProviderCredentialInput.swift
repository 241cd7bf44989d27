import Foundation
import ModelServiceCore

/// The credential a key request stores: an API key, or for Vertex AI a service account's JSON key file (as the
/// object `serviceAccount`, or its text in `apiKey`) with an optional `project` and `region`. Shared by the key API,
/// the user's key endpoint and the console; errors name the field and never repeat a value.
enum ProviderCredentialInput {
    static func secret(
        provider: ProviderKind?, apiKey: Secret?, serviceAccount: JSONValue? = nil, project: String? = nil, region: String? = nil
    ) throws(ServiceError) -> Secret {
        let jsonText = apiKey.map { $0.reveal.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") } ?? false
        guard provider == .vertex || (provider == nil && jsonText) else {
            if serviceAccount != nil { throw .invalidField("serviceAccount", "is only for provider vertex") }
            if project != nil { throw .invalidField("project", "is only for provider vertex") }
            if region != nil { throw .invalidField("region", "is only for provider vertex") }
            guard let apiKey else { throw .invalidField("apiKey", "is required") }
            return try APIKeyController.apiKey(apiKey)
        }
        let field = serviceAccount == nil ? "apiKey" : "serviceAccount"
        let text: Secret
        switch (serviceAccount, apiKey) {
        case (.some, .some): throw .invalidField("serviceAccount", "give serviceAccount or apiKey, not both")
        case (nil, nil): throw .invalidField("serviceAccount", "is required: the service account's JSON key file")
        case (.some(.object(let object)), nil):
            guard let data = try? ProviderJSON.sortedEncoder().encode(JSONValue.object(object)) else {
                throw .invalidField("serviceAccount", "must be a JSON object")
            }
            text = Secret(String(decoding: data, as: UTF8.self))
        case (.some, nil): throw .invalidField("serviceAccount", "must be the key file's JSON object")
        case (nil, .some(let apiKey)): text = apiKey
        }
        var account: GoogleServiceAccount
        do {
            account = try GoogleServiceAccount.parseChecked(text)
        } catch {
            throw .invalidField(field, error.description)
        }
        if let project {
            try TextInput.check(project, field: "project")
            account.project = project.isEmpty ? nil : project
        }
        if let region {
            try TextInput.check(region, field: "region")
            account.region = region.isEmpty ? nil : region
        }
        do {
            // The stored text holds them, so the same checks apply as to the file's own members.
            return try GoogleServiceAccount.parse(account.storedText).storedText
        } catch {
            throw .invalidField(error.field ?? field, error.problem)
        }
    }
}
