import Foundation
import Logging
import Synchronization

/// The model registry: writes go to the database, reads come from memory.
///
/// The gateway resolves a model on every call, so lookups are a dictionary read under a lock on a
/// snapshot. A write changes only the rows it wrote in the snapshot (visible to the next read at
/// once), and another instance's write reloads only the rows the change feed names: a change costs
/// the same at 10 models and at 10,000. Changes to the snapshot are made one at a time (`applying`),
/// so a reload that read the database never lands after a newer local write.
public final class ModelRegistry: Sendable {
    /// A view of the registry, indexed for the lookups the service makes; `models` in provider, name order.
    public struct Snapshot: Sendable {
        public private(set) var models: [Model]
        package private(set) var byName: [String: Model]
        package private(set) var byId: [String: Model]

        package init(models: [Model]) {
            self.models = models.sorted(by: Self.ordered)
            byName = Dictionary(models.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
            byId = Dictionary(models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }

        /// The listing order, as `ORDER BY provider, name`.
        package static func ordered(_ a: Model, _ b: Model) -> Bool {
            a.provider.rawValue != b.provider.rawValue ? a.provider.rawValue < b.provider.rawValue : a.name < b.name
        }

        /// Adds or replaces one model (found by id; a rename moves it). The database keeps one default per
        /// provider, so a new default clears the flag of any other this snapshot still holds.
        package mutating func upsert(_ model: Model) {
            remove(id: model.id)
            if model.isDefault {
                for other in models where other.provider == model.provider && other.isDefault {
                    var cleared = other
                    cleared.isDefault = false
                    remove(id: other.id)
                    insert(cleared)
                }
            }
            insert(model)
        }

        package func model(lowercasedName name: String) -> Model? { byName[name] }

        package mutating func remove(id: String) {
            guard let old = byId.removeValue(forKey: id) else { return }
            if byName[old.name.lowercased()]?.id == id { byName.removeValue(forKey: old.name.lowercased()) }
            let index = position(of: old)
            if index < models.count, models[index].id == id { models.remove(at: index) }
        }

        private mutating func insert(_ model: Model) {
            byId[model.id] = model
            byName[model.name.lowercased()] = model
            models.insert(model, at: position(of: model))
        }

        /// Where `model` is or belongs in `models`, by binary search.
        private func position(of model: Model) -> Int {
            var low = 0
            var high = models.count
            while low < high {
                let middle = (low + high) / 2
                if Self.ordered(models[middle], model) { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    let store: ModelStore
    let keyVariables: ProviderKeyVariables
    /// Each model's JSON in the lists, kept while the model is unchanged.
    package let lists = ModelListCache()
    let snapshotBox = Mutex(Snapshot(models: []))
    /// One change to the snapshot at a time: a local write with its apply, or a reload.
    let applying = AsyncLock()
    /// Whole-table reads so far (start and the change feed's periodic check), for tests and health.
    private let fullReloads = Atomic<Int>(0)

    public var fullReloadCount: Int { fullReloads.load(ordering: .relaxed) }

    public init(database: Database, keyVariables: ProviderKeyVariables = ProviderKeyVariables(environment: [:])) {
        store = ModelStore(database: database)
        self.keyVariables = keyVariables
    }

    public var snapshot: Snapshot { snapshotBox.withLock { $0 } }

    /// Reloads the whole table into a new snapshot (at start, and as the change feed's periodic check).
    public func reload() async throws {
        try await applying.withLock {
            self.fullReloads.add(1, ordering: .relaxed)
            let models = try await self.store.all()
            self.snapshotBox.withLock { $0 = Snapshot(models: models) }
        }
    }

    /// Reloads the models the change feed named (a row gone is a model deleted), or all of them when it names none.
    public func reload(ids: Set<String>?) async throws {
        guard let ids else { return try await reload() }
        try await applying.withLock {
            let rows = try await self.store.models(ids: ids)
            self.snapshotBox.withLock { snapshot in
                for id in ids where rows[id] == nil { snapshot.remove(id: id) }
                for model in rows.values { snapshot.upsert(model) }
            }
        }
    }

    /// The table as the database holds it, in listing order (tests compare the snapshot with it).
    package func snapshotFromDatabase() async throws -> [Model] {
        Snapshot(models: try await store.all()).models
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
        try Self.checkServer(fields, current: nil)
        return try await applying.withLock {
            try FallbackChain.validate(name: fields.name.value ?? "", fallbacks: fields.fallbacks.value ?? [], in: self.snapshot)
            let model = try await self.store.insert(fields, actor: actor)
            self.snapshotBox.withLock { $0.upsert(model) }
            return model
        }
    }

    public func update(id: String, _ fields: ModelFields, actor: AuditLog.Actor) async throws -> Model? {
        try fields.validate(creating: false, keyVariables: keyVariables)
        return try await applying.withLock {
            let snapshot = self.snapshot
            try Self.checkServer(fields, current: snapshot.byId[id])
            if let current = snapshot.byId[id], fields.fallbacks.value != nil || fields.name.value != nil {
                try FallbackChain.validate(
                    name: fields.name.value ?? current.name, fallbacks: fields.fallbacks.value ?? current.fallbacks, in: snapshot,
                    replacing: current.name)
            }
            let model = try await self.store.update(id: id, fields, actor: actor)
            if let model { self.snapshotBox.withLock { $0.upsert(model) } }
            return model
        }
    }

    /// A model of provider `openai-compatible` names its server (``CompatibleServer/check(settings:apiKeyEnvVar:)``),
    /// checked on the model as the write leaves it.
    package static func checkServer(_ fields: ModelFields, current: Model?) throws(ServiceError) {
        let provider = fields.provider.value.flatMap(ProviderKind.init(name:)) ?? current?.provider
        guard provider == .openaiCompatible else { return }
        let settings = fields.providerSettings.isSet ? fields.providerSettings.value ?? [:] : current?.providerSettings ?? [:]
        let variable = fields.apiKeyEnvVar.isSet ? fields.apiKeyEnvVar.value : current?.apiKeyEnvVar
        try CompatibleServer.check(settings: settings, apiKeyEnvVar: variable)
    }

    public func delete(id: String, actor: AuditLog.Actor) async throws -> Bool {
        try await applying.withLock {
            let deleted = try await self.store.delete(id: id, actor: actor)
            if deleted { self.snapshotBox.withLock { $0.remove(id: id) } }
            return deleted
        }
    }

    /// The model's prices over time, newest first (`GET /api/models/{id}/prices`).
    public func priceHistory(modelId: String) async throws -> [PriceChange] {
        try await PriceHistory.list(modelId: modelId, database: store.database)
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
