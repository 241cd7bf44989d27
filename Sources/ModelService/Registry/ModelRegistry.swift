import Foundation
import Logging
import Synchronization

/// The model registry: writes go to the database, reads come from memory.
///
/// The gateway resolves a model on every call, so lookups are a dictionary read under a lock on an
/// immutable snapshot. The snapshot is replaced after each local write (visible to the next read at
/// once) and when the `models` change counter moves on another instance.
public final class ModelRegistry: Sendable {
    /// An immutable view of the registry, indexed for the lookups the service makes.
    public struct Snapshot: Sendable {
        public let models: [Model]
        let byName: [String: Model]
        let byId: [String: Model]

        init(models: [Model]) {
            self.models = models
            byName = Dictionary(models.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
            byId = Dictionary(models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    private let store: ModelStore
    private let keyVariables: ProviderKeyVariables
    private let snapshotBox = Mutex(Snapshot(models: []))

    public init(database: Database, keyVariables: ProviderKeyVariables = ProviderKeyVariables(environment: [:])) {
        store = ModelStore(database: database)
        self.keyVariables = keyVariables
    }

    public var snapshot: Snapshot { snapshotBox.withLock { $0 } }

    /// Reloads the whole table (tens to hundreds of rows) into a new snapshot.
    public func reload() async throws {
        let models = try await store.all()
        snapshotBox.withLock { $0 = Snapshot(models: models) }
    }

    // MARK: Reads (memory only)

    /// The model a client names (case-insensitive), active or not.
    public func model(named name: String) -> Model? {
        snapshotBox.withLock { $0.byName[name.lowercased()] }
    }

    /// By id, else by name: the REST API accepts either in `/api/models/{id}`.
    public func model(idOrName: String) -> Model? {
        snapshotBox.withLock { $0.byId[idOrName] ?? $0.byName[idOrName.lowercased()] }
    }

    public func models(provider: ProviderKind? = nil, isActive: Bool? = nil) -> [Model] {
        snapshot.models.filter { model in
            (provider == nil || model.provider == provider) && (isActive == nil || model.isActive == isActive)
        }
    }

    // MARK: Writes (database, then a fresh snapshot)

    /// Every write is audited in its own transaction as `actor` (the REST API and the console alike).
    public func create(_ fields: ModelFields, actor: AuditLog.Actor) async throws -> Model {
        try fields.validate(creating: true, keyVariables: keyVariables)
        let model = try await store.insert(fields, actor: actor)
        try await reload()
        return model
    }

    public func update(id: String, _ fields: ModelFields, actor: AuditLog.Actor) async throws -> Model? {
        try fields.validate(creating: false, keyVariables: keyVariables)
        let model = try await store.update(id: id, fields, actor: actor)
        if model != nil { try await reload() }
        return model
    }

    public func delete(id: String, actor: AuditLog.Actor) async throws -> Bool {
        let deleted = try await store.delete(id: id, actor: actor)
        if deleted { try await reload() }
        return deleted
    }

    /// Counts for `GET /api/models/stats`.
    public func stats() -> ModelStats {
        let models = snapshot.models
        var byProvider: [String: ModelStats.ProviderStats] = [:]
        for model in models {
            var entry = byProvider[model.provider.rawValue] ?? .init(total: 0, active: 0, defaultModel: nil)
            entry.total += 1
            if model.isActive { entry.active += 1 }
            if model.isDefault { entry.defaultModel = model.name }
            byProvider[model.provider.rawValue] = entry
        }
        return ModelStats(
            total: models.count,
            active: models.filter(\.isActive).count,
            inactive: models.filter { !$0.isActive }.count,
            defaults: models.filter(\.isDefault).count,
            byProvider: byProvider
        )
    }
}

public struct ModelStats: Sendable, Codable, Equatable {
    public struct ProviderStats: Sendable, Codable, Equatable {
        public var total: Int
        public var active: Int
        public var defaultModel: String?
    }
    public var total: Int
    public var active: Int
    public var inactive: Int
    public var defaults: Int
    public var byProvider: [String: ProviderStats]
}
