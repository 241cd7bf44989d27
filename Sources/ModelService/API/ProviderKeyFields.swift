import Foundation
import ModelServiceCore

/// The credential fields of a key request: `apiKey` for every provider; for Bedrock an AWS key pair
/// (`accessKeyId`, `secretAccessKey`, `sessionToken`) and the `region` instead; for Vertex AI a service account
/// (`serviceAccount`, or its JSON text in `apiKey`) with an optional `project` and `region`
/// (``ProviderCredentialInput``). Shared by `/api/api-keys`, `/api/users/me/keys` and the console, so each takes
/// the same shapes and refuses them in the same words.
struct ProviderKeyFields: Sendable {
    var apiKey: Secret?
    var accessKeyId: String?
    var secretAccessKey: Secret?
    var sessionToken: Secret?
    var region: String?
    var serviceAccount: JSONValue? = nil
    var project: String? = nil

    /// What the vault stores for a new key of `provider`: the secret, the endpoint it is bound to (the one given,
    /// else a Bedrock region's runtime endpoint) and the metadata (a Bedrock key's `region` added, for signing).
    struct Credential: Sendable {
        var secret: Secret
        var endpoint: String?
        var metadata: [String: JSONValue]?
    }

    var givesAWSFields: Bool { accessKeyId != nil || secretAccessKey != nil || sessionToken != nil || region != nil }

    /// True when the request carries any credential, so the key's provider decides how it is read.
    var givesCredential: Bool { apiKey != nil || givesAWSFields || serviceAccount != nil || project != nil }

    func credential(
        for provider: ProviderKind, endpoint: String?, metadata: [String: JSONValue]?, endpoints: UpstreamEndpoints
    ) throws(ServiceError) -> Credential {
        if provider == .vertex {
            try refuse(["accessKeyId": accessKeyId != nil, "secretAccessKey": secretAccessKey != nil, "sessionToken": sessionToken != nil], provider)
            let secret = try ProviderCredentialInput.secret(
                provider: .vertex, apiKey: apiKey, serviceAccount: serviceAccount, project: project, region: region)
            return Credential(secret: secret, endpoint: endpoint, metadata: metadata)
        }
        guard provider == .bedrock else {
            try refuseAWSFields(provider)
            guard let apiKey else { throw .invalidField("apiKey", "is required") }
            return Credential(secret: try APIKeyController.apiKey(apiKey), endpoint: endpoint, metadata: metadata)
        }
        try refuse(["serviceAccount": serviceAccount != nil, "project": project != nil], provider)
        let input = try BedrockKeyInput(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken, apiKey: apiKey, region: region)
        guard let region = input.region else { return Credential(secret: input.secret, endpoint: endpoint, metadata: metadata) }
        var withRegion = metadata ?? [:]
        withRegion["region"] = .string(region)
        return Credential(secret: input.secret, endpoint: endpoint ?? endpoints.bedrockBaseURL(region: region), metadata: withRegion)
    }

    /// The replacement secret of a stored key of `provider` (its endpoint, and so its region, stays).
    func replacement(for provider: ProviderKind) throws(ServiceError) -> Secret? {
        if provider == .vertex {
            try refuse(["accessKeyId": accessKeyId != nil, "secretAccessKey": secretAccessKey != nil, "sessionToken": sessionToken != nil], provider)
            guard apiKey != nil || serviceAccount != nil else {
                if project != nil || region != nil { throw .invalidField("serviceAccount", "is required to change the project or region") }
                return nil
            }
            return try ProviderCredentialInput.secret(provider: .vertex, apiKey: apiKey, serviceAccount: serviceAccount, project: project, region: region)
        }
        guard provider == .bedrock else {
            try refuseAWSFields(provider)
            return try apiKey.map(APIKeyController.apiKey)
        }
        guard apiKey != nil || givesAWSFields else { return nil }
        if region != nil { throw .invalidField("region", "cannot change: a key is bound to its region; store a new key for another region") }
        return try BedrockKeyInput(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken, apiKey: apiKey, region: nil)
            .secret
    }

    /// Refuses every field a key of `provider` does not take (Bedrock's AWS fields, Vertex's service account).
    private func refuseAWSFields(_ provider: ProviderKind) throws(ServiceError) {
        try refuse(
            [
                "accessKeyId": accessKeyId != nil, "secretAccessKey": secretAccessKey != nil, "sessionToken": sessionToken != nil,
                "region": region != nil, "serviceAccount": serviceAccount != nil, "project": project != nil,
            ], provider)
    }

    private func refuse(_ given: KeyValuePairs<String, Bool>, _ provider: ProviderKind) throws(ServiceError) {
        if let field = given.first(where: \.value)?.key {
            let owner = ["region": "bedrock or vertex", "serviceAccount": "vertex", "project": "vertex"][field] ?? "bedrock"
            throw .invalidField(field, "is for provider \(owner) only; a \(provider.rawValue) key is given as apiKey")
        }
    }
}
