import Crypto
import Foundation
import SQLKit

/// The audit log's hash chain: each row stores SHA-256(previous row's hash ‖ its own canonical
/// fields) and its position `seq`, and the last position is kept in `configs` (`audit.head`).
///
/// Editing a row breaks its hash; removing one leaves a gap (or a short head); inserting one
/// breaks a link or passes the head. Appends are serialised (PostgreSQL: a transaction-scoped
/// advisory lock; SQLite: the write lock `BEGIN IMMEDIATE` takes), so two instances on one
/// database keep one chain. Rows written before migration 005 stay unchained; their number is
/// recorded by the migration, so rows added later without a position are caught too.
/// Anyone able to rewrite the whole table can recompute the chain: keep the head hash that
/// `model-service audit verify` prints somewhere else to detect that.
public enum AuditChain {
    /// Lock key for appends (distinct from the migration lock).
    package static let lockKey: Int64 = 0x6D73_0005
    package static let headKey = "audit.head"
    package static let unchainedKey = "audit.unchained_rows"
    package static let genesis = String(repeating: "0", count: 64)

    /// One row's content, exactly as stored.
    package struct Record: Sendable {
        package var id: String
        package var at: Int64
        package var tokenId: String?
        package var actorRole: String?
        package var action: String
        package var keyId: String?
        package var userId: String?
        package var provider: String?
        package var result: String
        package var detail: String?
        package var subjectType: String?
        package var subjectId: String?
        package var count: Int64
        /// The HTTP request that acted, tying the row to logs and traces.
        package var requestId: String? = nil

        package init(
            id: String, at: Int64, tokenId: String?, actorRole: String?, action: String, keyId: String?, userId: String?, provider: String?,
            result: String, detail: String?, subjectType: String?, subjectId: String?, count: Int64, requestId: String? = nil
        ) {
            self.requestId = requestId
            self.id = id
            self.at = at
            self.tokenId = tokenId
            self.actorRole = actorRole
            self.action = action
            self.keyId = keyId
            self.userId = userId
            self.provider = provider
            self.result = result
            self.detail = detail
            self.subjectType = subjectType
            self.subjectId = subjectId
            self.count = count
        }

        package init(row: any SQLRow) throws {
            id = try row.decode(column: "id", as: String.self)
            at = try row.decode(column: "at", as: Int64.self)
            tokenId = try row.decode(column: "token_id", as: String?.self)
            actorRole = try row.decode(column: "actor_role", as: String?.self)
            action = try row.decode(column: "action", as: String.self)
            keyId = try row.decode(column: "key_id", as: String?.self)
            userId = try row.decode(column: "target_user_id", as: String?.self)
            provider = try row.decode(column: "provider", as: String?.self)
            result = try row.decode(column: "result", as: String.self)
            detail = try row.decode(column: "detail", as: String?.self)
            subjectType = try row.decode(column: "subject_type", as: String?.self)
            subjectId = try row.decode(column: "subject_id", as: String?.self)
            count = try row.decode(column: "event_count", as: Int64?.self) ?? 1
            requestId = try row.decode(column: "request_id", as: String?.self)
        }

        /// SHA-256 over the previous hash, the position and every field, each length-prefixed
        /// (a missing value is distinct from an empty one), as lower-case hex.
        package func hash(seq: Int64, previous: String) -> String {
            var bytes: [UInt8] = []
            let fields: [String?] = [
                "model-service/audit/v1", previous, String(seq), id, String(at), tokenId, actorRole, action, keyId, userId, provider, result,
                detail, subjectType, subjectId, String(count), requestId,
            ]
            for field in fields {
                guard let field else {
                    bytes += [0xFF, 0xFF, 0xFF, 0xFF]
                    continue
                }
                let utf8 = Array(field.utf8)
                let length = UInt32(truncatingIfNeeded: utf8.count)
                bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + utf8
            }
            return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Appends `record` at the end of the chain, inside the caller's transaction.
    package static func append(_ record: Record, on sql: any SQLDatabase) async throws {
        if sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: lockKey))").run()
        }
        let last = try await sql.raw("SELECT seq, row_hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").first()
        let previousSeq = try last?.decode(column: "seq", as: Int64.self) ?? 0
        let previousHash = try last?.decode(column: "row_hash", as: String?.self) ?? genesis
        let seq = previousSeq + 1
        try await sql.insert(into: "audit_log")
            .columns(
                "id", "at", "token_id", "actor_role", "action", "key_id", "target_user_id", "provider", "result", "detail", "subject_type",
                "subject_id", "event_count", "seq", "prev_hash", "row_hash", "request_id"
            )
            .values(
                SQLBind(record.id), SQLBind(record.at), SQLBind(record.tokenId), SQLBind(record.actorRole), SQLBind(record.action),
                SQLBind(record.keyId), SQLBind(record.userId), SQLBind(record.provider), SQLBind(record.result), SQLBind(record.detail),
                SQLBind(record.subjectType), SQLBind(record.subjectId), SQLBind(record.count), SQLBind(seq), SQLBind(previousHash),
                SQLBind(record.hash(seq: seq, previous: previousHash)), SQLBind(record.requestId)
            )
            .run()
        try await sql.insert(into: "configs")
            .columns("key", "value", "updated_at")
            .values(SQLBind(headKey), SQLBind(String(seq)), SQLBind(Clock.nowMillis()))
            .onConflict(with: ["key"]) { $0.set(excludedValueOf: "value").set(excludedValueOf: "updated_at") }
            .run()
    }

    /// What `audit verify` found.
    public struct Report: Sendable {
        /// Chained rows checked.
        public var rows = 0
        /// Rows from before the chain (not chained).
        public var unchained = 0
        /// Hash of the last chained row (genesis when none).
        public var headHash = AuditChain.genesis
        /// The first problem, naming the row; nil when the chain is intact.
        public var problem: String?

        public var intact: Bool { problem == nil }
    }

    /// Walks the whole chain in order and reports the first row that was altered, inserted or removed.
    public static func verify(database: Database, pageSize: Int = 1_000) async throws -> Report {
        var report = Report()
        let (head, recordedUnchained, unchained) = try await database.run { sql in
            let head = try await config(headKey, on: sql).flatMap { Int64($0) } ?? 0
            let recorded = try await config(unchainedKey, on: sql).flatMap { Int($0) } ?? 0
            let count = try await sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE seq IS NULL").first()?.decode(column: "n", as: Int64.self) ?? 0
            return (head, recorded, Int(count))
        }
        report.unchained = unchained
        if unchained > recordedUnchained {
            let id = try await database.run { sql in
                try await sql.raw("SELECT id FROM audit_log WHERE seq IS NULL ORDER BY at DESC, id LIMIT 1").first()?.decode(column: "id", as: String.self)
            }
            report.problem = "\(unchained - recordedUnchained) audit row(s) without a chain position were inserted (for example id \(id ?? "?"))"
            return report
        }
        if unchained < recordedUnchained {
            report.problem = "\(recordedUnchained - unchained) audit row(s) from before the chain were removed"
            return report
        }
        var expected: Int64 = 1
        var previous = genesis
        while true {
            let after = expected - 1
            let rows = try await database.run { sql in
                try await sql.raw("SELECT * FROM audit_log WHERE seq > \(bind: after) ORDER BY seq LIMIT \(bind: Int64(pageSize))").all()
            }
            if rows.isEmpty { break }
            for row in rows {
                let seq = try row.decode(column: "seq", as: Int64.self)
                let record = try Record(row: row)
                let name = "audit row seq \(seq) (id \(record.id))"
                if seq > head {
                    report.problem = "\(name) was inserted: the chain's recorded head is seq \(head)"
                    return report
                }
                if seq != expected {
                    report.problem = "\(name) follows seq \(expected - 1): row(s) \(expected)...\(seq - 1) were removed"
                    return report
                }
                if try row.decode(column: "prev_hash", as: String?.self) != previous {
                    report.problem = "\(name) does not link to the row before it: a row before it was removed or inserted"
                    return report
                }
                let hash = try row.decode(column: "row_hash", as: String?.self)
                guard hash == record.hash(seq: seq, previous: previous) else {
                    report.problem = "\(name) was altered: its content does not match its hash"
                    return report
                }
                previous = hash ?? ""
                expected += 1
                report.rows += 1
            }
        }
        if expected - 1 < head {
            report.problem = "the last row(s) of the audit log were removed: the chain ends at seq \(expected - 1), its recorded head is seq \(head)"
        }
        report.headHash = previous
        return report
    }

    private static func config(_ key: String, on sql: any SQLDatabase) async throws -> String? {
        try await sql.raw("SELECT value FROM configs WHERE key = \(bind: key)").first()?.decode(column: "value", as: String.self)
    }
}
