import Foundation
import SQLKit

/// Price-map imports waiting for an admin's approval (`price_imports`): `model-service prices import FILE`
/// stages the differences it found, the console's Prices page shows them, and Apply writes them through
/// the registry (audited, in the price history) while Discard drops them. One import is pending at a
/// time: a newer one supersedes it.
///
/// An approval applies a change only while the model still has the prices the import was compared
/// with: a model edited since is skipped and named, never overwritten with a stale proposal.
public struct PriceImports: Sendable {
    /// One staged difference (a ``PriceMapChange`` as stored).
    public struct Change: Sendable, Codable, Equatable {
        public var modelId: String
        public var modelName: String
        public var kind: String
        public var key: String?
        public var current: ModelPrices?
        public var proposed: ModelPrices?
    }

    public struct Staged: Sendable {
        public var id: String
        public var source: String
        public var createdAt: Int64
        public var changes: [Change]
    }

    /// What an approval did.
    public struct Outcome: Sendable, Equatable {
        public var applied: [String] = []
        /// Models whose prices changed since the import was staged, or which are gone.
        public var skipped: [String] = []
    }

    package let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Stages `changes` (the gone ones are kept for the record but never applied); returns the import's id.
    public func stage(_ changes: [PriceMapChange], source: String) async throws -> String {
        let id = RandomIdentifier.uuid()
        let stored = changes.map {
            Change(modelId: $0.model.id, modelName: $0.model.name, kind: $0.kind.rawValue, key: $0.key, current: $0.model.prices, proposed: $0.proposed)
        }
        let json = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
        let now = Clock.nowMillis()
        try await database.transaction { sql in
            try await sql.raw("UPDATE price_imports SET status = 'superseded', decided_at = \(bind: now) WHERE status = 'pending'").run()
            try await sql.raw("""
                INSERT INTO price_imports (id, source, changes, status, created_at) \
                VALUES (\(bind: id), \(bind: String(source.prefix(200))), \(bind: json), 'pending', \(bind: now))
                """).run()
        }
        return id
    }

    /// Marks a pending import superseded (the differences were just applied another way: `--apply`).
    public func supersedePending() async throws {
        try await database.run { sql in
            try await sql.raw("UPDATE price_imports SET status = 'superseded', decided_at = \(bind: Clock.nowMillis()) WHERE status = 'pending'").run()
        }
    }

    /// The import waiting for approval, if any.
    public func pending() async throws -> Staged? {
        let row = try await database.run { sql in
            try await sql.raw("SELECT id, source, changes, created_at FROM price_imports WHERE status = 'pending' ORDER BY created_at DESC LIMIT 1").first()
        }
        guard let row else { return nil }
        let changes = try JSONDecoder().decode([Change].self, from: Data(try row.decode(column: "changes", as: String.self).utf8))
        return Staged(
            id: try row.decode(column: "id", as: String.self), source: try row.decode(column: "source", as: String.self),
            createdAt: try row.decode(column: "created_at", as: Int64.self), changes: changes)
    }

    /// Applies (or discards) a pending import once: claimed by one conditional update, so two admins
    /// approving at once apply it once. Nil when no such import is pending.
    public func decide(id: String, apply: Bool, registry: ModelRegistry, actor: AuditLog.Actor) async throws -> Outcome? {
        guard let staged = try await pending(), staged.id == id else { return nil }
        let claimed = try await database.run { sql in
            try await sql.raw("""
                UPDATE price_imports SET status = \(bind: apply ? "applied" : "discarded"), decided_at = \(bind: Clock.nowMillis()), \
                decided_by = \(bind: actor.tokenId ?? actor.role) WHERE id = \(bind: id) AND status = 'pending' RETURNING id
                """).first() != nil
        }
        guard claimed else { return nil }
        var outcome = Outcome()
        guard apply else { return outcome }
        for change in staged.changes where change.kind != PriceMapChange.Kind.gone.rawValue {
            guard let proposed = change.proposed, let model = registry.model(idOrName: change.modelId), model.prices == change.current else {
                outcome.skipped.append(change.modelName)
                continue
            }
            _ = try await registry.update(id: model.id, PriceMapChange.fields(for: proposed), actor: actor)
            outcome.applied.append(model.name)
        }
        return outcome
    }
}
