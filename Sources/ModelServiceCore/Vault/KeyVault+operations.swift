import Foundation

/// Create, change, delete, validate and decrypt stored keys, each with its audit entry.
extension KeyVault {
    package struct NewKey: Sendable {
        package var owner: String
        package var provider: ProviderKind
        package var keyName: String
        package var apiKey: Secret
        package var metadata: [String: JSONValue] = [:]
        package var validate: Bool = true
        /// The endpoint the key is for (Azure resource, self-hosted server); nil: the provider's configured base URL.
        package var endpoint: String? = nil

        package init(owner: String, provider: ProviderKind, keyName: String, apiKey: Secret, metadata: [String: JSONValue] = [:], validate: Bool = true, endpoint: String? = nil) {
            self.owner = owner
            self.provider = provider
            self.keyName = keyName
            self.apiKey = apiKey
            self.metadata = metadata
            self.validate = validate
            self.endpoint = endpoint
        }
    }

    package struct Changes: Sendable {
        package var keyName: String?
        package var isActive: Bool?
        package var apiKey: Secret?
        package var metadata: [String: JSONValue]?
        package var validate: Bool = true

        package init(keyName: String? = nil, isActive: Bool? = nil, apiKey: Secret? = nil, metadata: [String: JSONValue]? = nil, validate: Bool = true) {
            self.keyName = keyName
            self.isActive = isActive
            self.apiKey = apiKey
            self.metadata = metadata
            self.validate = validate
        }
    }

    /// The result of `POST /api/api-keys/{id}/validate`.
    package struct ValidationReport: Sendable, Encodable {
        package var id: String
        package var result: String
        package var isValid: Bool?
        package var reason: String?
    }

    package func create(_ new: NewKey, actor: AuditLog.Actor, action: AuditLog.Action = .create) async throws -> APIKey {
        let subject = AuditLog.Subject(keyId: nil, owner: new.owner, provider: new.provider)
        let isValid = new.validate
            ? try await check(
                new.apiKey, provider: new.provider, endpoint: new.endpoint, region: new.metadata["region"]?.stringValue, action: action, actor: actor,
                subject: subject) : nil
        let cipher = try cipher()
        let id = RandomIdentifier.uuid()
        let binding = RecordBinding(keyId: id, owner: new.owner, provider: new.provider.rawValue, endpoint: new.endpoint)
        let encrypted = try cipher.encrypt(new.apiKey, binding: binding)
        let row = APIKeyStore.NewKey(
            id: id, owner: new.owner, provider: new.provider, keyName: new.keyName, endpoint: new.endpoint, encryptedKey: encrypted,
            keyVersion: cipher.keyring.current.version, keyPrefix: KeyMasking.maskedPrefix(new.apiKey), isActive: true,
            isValid: isValid, metadata: new.metadata
        )
        let stored = try await writing {
            try await database.transaction { sql in
                try await APIKeyStore.insert(row, on: sql)
                guard let stored = try await APIKeyStore.find(id: id, on: sql) else { throw StorageError.unavailable("key vanished after insert") }
                // A team's key names its team in the chain (its owner is no user).
                let detail = [new.validate ? nil : "stored unvalidated", stored.teamId.map { "shared with team \($0)" }].compactMap { $0 }
                try await AuditLog.write(
                    action, actor: actor, subject: .init(stored), result: "ok", detail: detail.isEmpty ? nil : detail.joined(separator: "; "), on: sql)
                return stored
            }
        }
        await reloadAfterWrite()
        return record(stored)
    }

    /// A user's key for a provider (the settings flow of the API and the console): replaces the key
    /// of that name (re-validated, re-activated) or adds it. Returns the key and whether it is new.
    package func setUserKey(
        userId: String, provider: ProviderKind, keyName: String, apiKey: Secret, metadata: [String: JSONValue]?, endpoint: String? = nil,
        access: KeyAccess
    ) async throws -> (APIKey, created: Bool) {
        let actor = AuditLog.Actor(access.principal)
        let existing = try await list(.init(owner: userId, provider: provider)).first { $0.keyName == keyName }
        // The endpoint is part of the ciphertext's binding: a key for another endpoint is a new row.
        if let existing, existing.endpoint == endpoint {
            let changes = Changes(isActive: true, apiKey: apiKey, metadata: metadata)
            return (try await update(id: existing.id, changes: changes, access: access, actor: actor), false)
        }
        if existing != nil {
            throw ServiceError.conflict("A key named '\(keyName)' exists for another endpoint; delete it first or choose another keyName.")
        }
        let new = NewKey(owner: userId, provider: provider, keyName: keyName, apiKey: apiKey, metadata: metadata ?? [:], endpoint: endpoint)
        return (try await create(new, actor: actor), true)
    }

    package func find(id: String, access: KeyAccess) async throws -> APIKey {
        guard let stored = try await database.run({ try await APIKeyStore.find(id: id, on: $0) }), access.mayManage(stored) else {
            throw ServiceError.notFound("API key")
        }
        return record(stored)
    }

    package func list(_ filter: APIKeyStore.Filter) async throws -> [APIKey] {
        try await database.run { try await APIKeyStore.list(filter, on: $0) }.map(record)
    }

    package func update(id: String, changes: Changes, access: KeyAccess, actor: AuditLog.Actor) async throws -> APIKey {
        let existing = try await manageable(id: id, access: access)
        let replacement = try await replacement(for: changes, of: existing, actor: actor)
        let encrypted = replacement?.encrypted
        let isValid: Bool?? = replacement.map { $0.isValid }
        let fields = [changes.keyName.map { _ in "keyName" }, changes.isActive.map { _ in "isActive" }, changes.apiKey.map { _ in "apiKey" },
                      changes.metadata.map { _ in "metadata" }].compactMap { $0 }
        let stored = try await writing {
            try await database.transaction { sql in
                try await APIKeyStore.update(id: id, keyName: changes.keyName, isActive: changes.isActive, isValid: isValid, encrypted: encrypted,
                                             metadata: changes.metadata, on: sql)
                guard let stored = try await APIKeyStore.find(id: id, on: sql) else { throw ServiceError.notFound("API key") }
                try await AuditLog.write(.update, actor: actor, subject: .init(stored), result: "ok", detail: "changed " + fields.joined(separator: ", "), on: sql)
                return stored
            }
        }
        await reloadAfterWrite()
        return record(stored)
    }

    /// The new ciphertext (same row binding) and validity when a change replaces the key.
    private func replacement(for changes: Changes, of existing: StoredAPIKey, actor: AuditLog.Actor) async throws
        -> (encrypted: (text: String, version: Int, prefix: String), isValid: Bool?)?
    {
        guard let apiKey = changes.apiKey else { return nil }
        let isValid = changes.validate
            ? try await check(
                apiKey, provider: existing.provider, endpoint: existing.endpoint, region: existing.metadata["region"]?.stringValue, action: .update,
                actor: actor, subject: .init(existing)) : nil
        let cipher = try cipher()
        return ((try cipher.encrypt(apiKey, binding: existing.binding), cipher.keyring.current.version, KeyMasking.maskedPrefix(apiKey)), isValid)
    }

    package func delete(id: String, access: KeyAccess, actor: AuditLog.Actor) async throws {
        let existing = try await manageable(id: id, access: access)
        try await database.transaction { sql in
            try await APIKeyStore.delete(id: id, on: sql)
            try await AuditLog.write(.delete, actor: actor, subject: .init(existing), result: "ok", on: sql)
        }
        await reloadAfterWrite()
    }

    /// Re-checks a stored key with its provider and records the answer (an unreachable provider changes nothing).
    package func validateStored(id: String, access: KeyAccess, actor: AuditLog.Actor) async throws -> ValidationReport {
        let existing = try await manageable(id: id, access: access)
        guard let secret = try? cipher().decrypt(existing.encryptedKey, binding: existing.binding) else {
            try await database.transaction { sql in
                try await AuditLog.write(.validate, actor: actor, subject: .init(existing), result: "undecryptable", on: sql)
            }
            throw Self.undecryptableError
        }
        let result = await validator.validate(secret, provider: existing.provider, endpoint: existing.endpoint, region: existing.metadata["region"]?.stringValue)
        try await database.transaction { sql in
            if case .unreachable = result {} else {
                try await APIKeyStore.update(id: id, keyName: nil, isActive: nil, isValid: .some(result.isValid), encrypted: nil, metadata: nil, on: sql)
            }
            try await AuditLog.write(.validate, actor: actor, subject: .init(existing), result: result.label, on: sql)
        }
        await reloadAfterWrite()
        if case .unreachable(let reason) = result { throw Self.unreachableError(existing.provider, reason) }
        return ValidationReport(id: id, result: result.label, isValid: result.isValid, reason: result.reason)
    }

    /// The plaintext for the internal decrypt endpoint; audited whatever the outcome.
    package func decrypt(id: String, actor: AuditLog.Actor) async throws -> (APIKey, Secret) {
        guard let stored = try await database.run({ try await APIKeyStore.find(id: id, on: $0) }) else {
            try await database.transaction { sql in
                try await AuditLog.write(.decrypt, actor: actor, subject: .init(keyId: id, owner: nil, provider: nil), result: "not_found", on: sql)
            }
            throw ServiceError.notFound("API key")
        }
        let secret = try? cipher().decrypt(stored.encryptedKey, binding: stored.binding)
        try await database.transaction { sql in
            try await AuditLog.write(.decrypt, actor: actor, subject: .init(stored), result: secret == nil ? "undecryptable" : "ok", on: sql)
        }
        guard let secret else { throw Self.undecryptableError }
        return (record(stored), secret)
    }

    /// A key the caller may manage, else the same 404 as a key that does not exist.
    private func manageable(id: String, access: KeyAccess) async throws -> StoredAPIKey {
        guard let stored = try await database.run({ try await APIKeyStore.find(id: id, on: $0) }), access.mayManage(stored) else {
            throw ServiceError.notFound("API key")
        }
        return stored
    }

    /// Validates a key before it is stored: a rejection is a 422, no answer a 502, both audited. `region`: a Bedrock
    /// key's (its `metadata.region`), which it is signed for.
    private func check(
        _ key: Secret, provider: ProviderKind, endpoint: String?, region: String?, action: AuditLog.Action, actor: AuditLog.Actor,
        subject: AuditLog.Subject
    ) async throws -> Bool? {
        let result = await validator.validate(key, provider: provider, endpoint: endpoint, region: region)
        switch result {
        case .valid, .notChecked:
            return result.isValid
        case .rejected(let reason):
            try await database.transaction { sql in
                try await AuditLog.write(action, actor: actor, subject: subject, result: "rejected", detail: "provider rejected the key", on: sql)
            }
            throw ServiceError(.keyRejected, "The \(provider.rawValue) provider rejected the key: \(reason)")
        case .unreachable(let reason):
            try await database.transaction { sql in
                try await AuditLog.write(action, actor: actor, subject: subject, result: "unreachable", detail: "provider unreachable", on: sql)
            }
            throw Self.unreachableError(provider, reason)
        }
    }

    /// Runs a write, turning a UNIQUE (user, provider, keyName) violation into a 409.
    private func writing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error where Database.isUniqueViolation(error) {
            throw ServiceError.conflict("A key with this keyName already exists for this user and provider.")
        }
    }

    package static func unreachableError(_ provider: ProviderKind, _ reason: String) -> ServiceError {
        ServiceError(
            .providerUnreachable,
            "The \(provider.rawValue) provider could not be reached to validate the key (\(reason)); retry later, "
                + "or store it unvalidated with ?skipValidation=true (admin or service token)."
        )
    }

    package static let undecryptableError = ServiceError(
        .storedKeyUndecryptable,
        "The stored key cannot be decrypted with the loaded master keys (wrong ENCRYPTION_SECRET, or ENCRYPTION_SECRET_PREVIOUS missing during a rotation)."
    )
}
