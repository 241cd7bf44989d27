import Foundation
import Hummingbird
import ModelServiceCore

/// `/api/api-keys`: store, list, read, change, delete and re-validate provider keys (seed 002 shapes).
struct APIKeyController {
    let vault: KeyVault
    let registry: ModelRegistry
    let teams: TeamStore

    struct CreateRequest: Decodable {
        var userId: String?
        var shared: Bool?
        var provider: ProviderKind
        var keyName: String?
        /// Required, except for Bedrock (an AWS key pair and its region instead) and Vertex AI (`serviceAccount`
        /// instead): ``ProviderKeyFields``.
        var apiKey: Secret?
        var accessKeyId: String?
        var secretAccessKey: Secret?
        var sessionToken: Secret?
        var serviceAccount: JSONValue?
        var project: String?
        var region: String?
        var metadata: [String: JSONValue]?
        var validate: Bool?
        /// `baseURL` is accepted as another name, as the model's providerSettings spell it.
        var endpoint: String?
        var baseURL: String?
        /// An OpenAI-compatible key's server, by name: the key is bound to its base URL (``CompatibleServerKey``).
        var server: String?
        /// A key shared with this team: its calls use it when their user has no key of their own.
        var teamId: String?

        var keyFields: ProviderKeyFields {
            ProviderKeyFields(
                apiKey: apiKey, accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken, region: region,
                serviceAccount: serviceAccount, project: project)
        }
    }

    struct UpdateRequest: Decodable {
        var keyName: String?
        var isActive: Bool?
        var apiKey: Secret?
        var accessKeyId: String?
        var secretAccessKey: Secret?
        var sessionToken: Secret?
        var region: String?
        var serviceAccount: JSONValue?
        var project: String?
        var metadata: [String: JSONValue]?
        var validate: Bool?

        var keyFields: ProviderKeyFields {
            ProviderKeyFields(
                apiKey: apiKey, accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken, region: region,
                serviceAccount: serviceAccount, project: project)
        }
    }

    func register(on group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{id}", use: get)
        group.patch("{id}", use: update)
        group.delete("{id}", use: delete)
        group.post("{id}/validate", use: validate)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<APIKey> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams).keys
        let body = try await request.decodeJSON(as: CreateRequest.self, context: context)
        if let teamId = body.teamId, teams.team(id: teamId) == nil { throw ServiceError.notFound("team") }
        let owner = try access.ownerForNewKey(userId: body.userId, shared: body.shared ?? false, teamId: body.teamId)
        let binding = try CompatibleServerKey.binding(
            provider: body.provider, server: body.server, endpoint: try Self.endpoint(body.endpoint, baseURL: body.baseURL), keyName: body.keyName,
            registry: registry)
        let credential = try body.keyFields.credential(
            for: body.provider, endpoint: binding.endpoint, metadata: body.metadata, endpoints: vault.validator.endpoints)
        let new = KeyVault.NewKey(
            owner: owner,
            provider: body.provider,
            keyName: binding.keyName,
            apiKey: credential.secret,
            metadata: credential.metadata ?? [:],
            validate: try Self.shouldValidate(request, bodyFlag: body.validate, access: access),
            endpoint: credential.endpoint
        )
        return JSONResponse(try await vault.create(new, actor: .init(access.principal, requestId: context.requestId)), status: .created)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<[APIKey]> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams).keys
        let query = request.uri.queryParameters
        var provider: ProviderKind?
        if let name = query.get("provider") {
            guard let kind = ProviderKind(name: name) else { throw ServiceError.invalidField("provider", "must be one of \(ProviderKind.knownList)") }
            provider = kind
        }
        guard let filter = try access.listFilter(userId: query.get("userId"), provider: provider, shared: try request.boolQuery("shared")) else {
            return JSONResponse([])
        }
        return JSONResponse(try await vault.list(filter))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<APIKey> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams).keys
        return JSONResponse(try await vault.find(id: try context.parameters.require("id"), access: access))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<APIKey> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams).keys
        let body = try await request.decodeJSON(as: UpdateRequest.self, context: context)
        let id = try context.parameters.require("id")
        let fields = body.keyFields
        // The key's provider decides which fields make its secret (Bedrock's AWS fields, Vertex's service account);
        // looked up only when a credential comes.
        let apiKey = fields.givesCredential ? try fields.replacement(for: try await vault.find(id: id, access: access).provider) : nil
        let changes = KeyVault.Changes(
            keyName: try body.keyName.map(Self.keyName),
            isActive: body.isActive,
            apiKey: apiKey,
            metadata: body.metadata,
            validate: apiKey == nil ? true : try Self.shouldValidate(request, bodyFlag: body.validate, access: access)
        )
        return JSONResponse(try await vault.update(id: id, changes: changes, access: access, actor: .init(access.principal, requestId: context.requestId)))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams).keys
        try await vault.delete(id: try context.parameters.require("id"), access: access, actor: .init(access.principal, requestId: context.requestId))
        return Response(status: .noContent)
    }

    @Sendable func validate(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KeyVault.ValidationReport> {
        let access = TeamAccess(principal: try context.requirePrincipal(), teams: teams).keys
        let id = try context.parameters.require("id")
        return JSONResponse(try await vault.validateStored(id: id, access: access, actor: .init(access.principal, requestId: context.requestId)))
    }

    // MARK: Input checks (shared with the user settings endpoints)

    static func keyName(_ raw: String) throws(ServiceError) -> String {
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw .invalidField("keyName", "must be 1 to 200 characters") }
        try TextInput.check(name, field: "keyName")
        return name
    }

    /// The key's endpoint from `endpoint` or its alias `baseURL`: http(s), a host, no userinfo.
    static func endpoint(_ endpoint: String?, baseURL: String?) throws(ServiceError) -> String? {
        if endpoint != nil, baseURL != nil { throw .invalidField("endpoint", "give endpoint or baseURL, not both") }
        if let endpoint { return try EndpointURL.check(endpoint, field: "endpoint") }
        if let baseURL { return try EndpointURL.check(baseURL, field: "baseURL") }
        return nil
    }

    /// Surrounding whitespace (a pasted newline) is dropped; the message never repeats the value.
    static func apiKey(_ raw: Secret) throws(ServiceError) -> Secret {
        let key = raw.reveal.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { throw .invalidField("apiKey", "must not be empty") }
        guard key.count <= 4096 else { throw .invalidField("apiKey", "must be at most 4096 characters") }
        guard key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .invalidField("apiKey", "must be printable ASCII without spaces")
        }
        return Secret(key)
    }

    /// `?skipValidation=true` or `"validate": false` skip the provider check; only admin and service tokens may.
    static func shouldValidate(_ request: Request, bodyFlag: Bool?, access: KeyAccess) throws(ServiceError) -> Bool {
        let skip = try request.boolQuery("skipValidation") == true || bodyFlag == false
        if skip && !access.mayStoreUnvalidated {
            throw .forbidden("Only admin and service tokens may store a key without validating it.")
        }
        return !skip
    }
}
