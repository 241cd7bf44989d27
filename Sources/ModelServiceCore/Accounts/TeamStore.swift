import Foundation
import SQLKit
import Synchronization

/// Teams and their members: written to the database (audited, one change-feed bump each), read from memory.
///
/// Every call may ask which teams its user is in (the call's team, team keys and budgets), so memberships are
/// held in memory and reloaded when the `teams` change counter moves, as tokens are.
public final class TeamStore: Sendable {
    package static let changeCounter = "teams"
    /// Most teams one user may be in, and members one team may have: lookups per call stay small.
    public static let maxTeamsPerUser = 100
    public static let maxMembersPerTeam = 10_000

    private struct Snapshot: Sendable {
        var teams: [String: Team] = [:]
        var members: [String: [TeamMember]] = [:]
        /// User id → team id → role.
        var byUser: [String: [String: TeamRole]] = [:]
    }

    private let database: Database
    private let snapshot = Mutex(Snapshot())

    public init(database: Database) {
        self.database = database
    }

    public func reload() async throws {
        let (teamRows, memberRows) = try await database.run { sql in
            (try await sql.raw("SELECT * FROM teams").all(), try await sql.raw("SELECT * FROM team_members ORDER BY created_at, user_id").all())
        }
        var fresh = Snapshot()
        for row in memberRows {
            let member = try TeamMember(row: row)
            fresh.members[member.teamId, default: []].append(member)
            fresh.byUser[member.userId, default: [:]][member.teamId] = member.role
        }
        for row in teamRows {
            let id = try row.decode(column: "id", as: String.self)
            fresh.teams[id] = try Team(row: row, memberCount: fresh.members[id]?.count ?? 0)
        }
        snapshot.withLock { $0 = fresh }
    }

    // MARK: Reads (memory)

    public func team(id: String) -> Team? { snapshot.withLock { $0.teams[id] } }

    public func teams() -> [Team] {
        snapshot.withLock { Array($0.teams.values) }.sorted { ($0.name.lowercased(), $0.id) < ($1.name.lowercased(), $1.id) }
    }

    public func members(teamId: String) -> [TeamMember] { snapshot.withLock { $0.members[teamId] ?? [] } }

    /// The user's role in the team; nil when not a member.
    public func role(userId: String, teamId: String) -> TeamRole? { snapshot.withLock { $0.byUser[userId]?[teamId] } }

    /// The user's teams and roles (empty when in none): read on every call with a user.
    public func memberships(of userId: String) -> [String: TeamRole] { snapshot.withLock { $0.byUser[userId] ?? [:] } }

    /// The teams the user is in, by id.
    public func teamIds(of userId: String) -> [String] { snapshot.withLock { ($0.byUser[userId] ?? [:]).keys.sorted() } }

    /// The teams the user administers.
    public func administered(by userId: String) -> Set<String> {
        snapshot.withLock { Set(($0.byUser[userId] ?? [:]).filter { $0.value == .teamAdmin }.keys) }
    }

    // MARK: Writes

    public func create(name: String, actor: AuditLog.Actor) async throws -> Team {
        let name = try Self.checkedName(name)
        let id = "team_" + RandomIdentifier.uuid().replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
        let now = Clock.nowMillis()
        try await write { sql in
            try await Self.refuseTakenName(name, except: nil, on: sql)
            try await sql.insert(into: "teams").columns("id", "name", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(name), SQLBind(now), SQLBind(now)).run()
            try await AuditLog.write(.create, actor: actor, subject: .team(id: id), result: "ok", detail: "team \(name)", on: sql)
        }
        guard let team = team(id: id) else { throw StorageError.unavailable("team vanished after insert") }
        return team
    }

    public func rename(id: String, name: String, actor: AuditLog.Actor) async throws -> Team? {
        let name = try Self.checkedName(name)
        guard team(id: id) != nil else { return nil }
        try await write { sql in
            try await Self.refuseTakenName(name, except: id, on: sql)
            try await sql.raw("UPDATE teams SET name = \(bind: name), updated_at = \(bind: Clock.nowMillis()) WHERE id = \(bind: id)").run()
            try await AuditLog.write(.update, actor: actor, subject: .team(id: id), result: "ok", detail: "renamed to \(name)", on: sql)
        }
        return team(id: id)
    }

    /// Replaces the team's limits (checked by the caller).
    public func setLimits(id: String, limits: [TeamLimit], actor: AuditLog.Actor) async throws -> Team? {
        guard team(id: id) != nil else { return nil }
        let text = String(decoding: try JSONEncoder().encode(limits), as: UTF8.self)
        let summary = limits.map { limit in
            "\(limit.model): " + [limit.rateLimitPerMinute.map { "\($0) requests/min" }, limit.tokenLimitPerMinute.map { "\($0) tokens/min" }]
                .compactMap { $0 }.joined(separator: ", ")
        }.joined(separator: "; ")
        try await write { sql in
            try await sql.raw("UPDATE teams SET limits = \(bind: text), updated_at = \(bind: Clock.nowMillis()) WHERE id = \(bind: id)").run()
            try await AuditLog.write(
                .update, actor: actor, subject: .team(id: id), result: "ok", detail: "limits " + (summary.isEmpty ? "none" : summary), on: sql)
        }
        return team(id: id)
    }

    /// The rate windows a call of `model` made for team `teamId` counts against (none for most teams).
    package func windows(teamId: String, model: Model) -> [RateWindow] {
        guard let limits = snapshot.withLock({ $0.teams[teamId]?.limits }), !limits.isEmpty else { return [] }
        return TeamLimit.windows(limits, teamId: teamId, model: model)
    }

    /// Deletes a team and its memberships; refused while keys, budgets or usable tokens still belong to it.
    public func delete(id: String, actor: AuditLog.Actor) async throws -> Bool {
        guard team(id: id) != nil else { return false }
        try await write { sql in
            let owner = RecordBinding.teamOwner(id)
            let keys = try await sql.raw("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = \(bind: owner)").first()?.decode(column: "n", as: Int.self) ?? 0
            let budgets = try await sql.raw("SELECT COUNT(*) AS n FROM budgets WHERE team_id = \(bind: id)").first()?.decode(column: "n", as: Int.self) ?? 0
            let tokens = try await sql.raw("SELECT COUNT(*) AS n FROM access_tokens WHERE team_id = \(bind: id) AND revoked_at IS NULL")
                .first()?.decode(column: "n", as: Int.self) ?? 0
            if keys + budgets + tokens > 0 {
                throw ServiceError.conflict(
                    "The team still has \(keys) key(s), \(budgets) budget(s) and \(tokens) token(s): delete or revoke them first.")
            }
            try await sql.raw("DELETE FROM team_members WHERE team_id = \(bind: id)").run()
            try await sql.raw("DELETE FROM teams WHERE id = \(bind: id)").run()
            try await AuditLog.write(.delete, actor: actor, subject: .team(id: id), result: "ok", on: sql)
        }
        return true
    }

    /// Adds the user to the team with `role`, or changes the role of a member.
    public func setMember(teamId: String, userId: String, role: TeamRole, actor: AuditLog.Actor) async throws -> TeamMember {
        guard team(id: teamId) != nil else { throw ServiceError.notFound("team") }
        let userId = try UserId.checked(userId, field: "userId")
        if self.role(userId: userId, teamId: teamId) == nil {
            if members(teamId: teamId).count >= Self.maxMembersPerTeam { throw ServiceError.conflict("A team has at most \(Self.maxMembersPerTeam) members.") }
            if teamIds(of: userId).count >= Self.maxTeamsPerUser { throw ServiceError.conflict("A user is in at most \(Self.maxTeamsPerUser) teams.") }
        }
        try await write { sql in
            try await sql.raw("DELETE FROM team_members WHERE team_id = \(bind: teamId) AND user_id = \(bind: userId)").run()
            try await sql.insert(into: "team_members").columns("team_id", "user_id", "role", "created_at")
                .values(SQLBind(teamId), SQLBind(userId), SQLBind(role.rawValue), SQLBind(Clock.nowMillis())).run()
            try await AuditLog.write(
                .update, actor: actor, subject: .team(id: teamId, userId: userId), result: "ok", detail: "member \(userId) as \(role.rawValue)", on: sql)
        }
        guard let member = members(teamId: teamId).first(where: { $0.userId == userId }) else { throw StorageError.unavailable("member vanished") }
        return member
    }

    public func removeMember(teamId: String, userId: String, actor: AuditLog.Actor) async throws -> Bool {
        guard role(userId: userId, teamId: teamId) != nil else { return false }
        try await write { sql in
            try await sql.raw("DELETE FROM team_members WHERE team_id = \(bind: teamId) AND user_id = \(bind: userId)").run()
            try await AuditLog.write(
                .delete, actor: actor, subject: .team(id: teamId, userId: userId), result: "ok", detail: "member \(userId) removed", on: sql)
        }
        return true
    }

    /// Replaces the user's memberships of `teams` (ids, all existing) with those given, leaving other teams alone:
    /// single sign-on's groups claim, applied at each sign-in.
    public func syncMemberships(userId: String, to wanted: [String: TeamRole], within teams: Set<String>, actor: AuditLog.Actor) async throws {
        let current = snapshot.withLock { ($0.byUser[userId] ?? [:]).filter { teams.contains($0.key) } }
        guard current != wanted else { return }
        for (teamId, role) in wanted where current[teamId] != role { _ = try await setMember(teamId: teamId, userId: userId, role: role, actor: actor) }
        for teamId in current.keys where wanted[teamId] == nil { _ = try await removeMember(teamId: teamId, userId: userId, actor: actor) }
    }

    private func write(_ body: @Sendable @escaping (any SQLDatabase) async throws -> Void) async throws {
        do {
            try await database.transaction { sql in
                try await body(sql)
                try await ChangeFeed.bump(Self.changeCounter, on: sql)
            }
        } catch let error where Database.isUniqueViolation(error) {
            // Two writers at once with the same team name (or member): the second is told, not failed.
            throw ServiceError.conflict("A team of that name, or that membership, was just written by another request; retry.")
        }
        try await reload()
    }

    private static func checkedName(_ raw: String) throws(ServiceError) -> String {
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw .invalidField("name", "must be 1 to 200 characters") }
        try TextInput.check(name, field: "name")
        return name
    }

    private static func refuseTakenName(_ name: String, except id: String?, on sql: any SQLDatabase) async throws {
        let taken = try await sql.raw("SELECT id FROM teams WHERE LOWER(name) = \(bind: name.lowercased())").all()
            .map { try $0.decode(column: "id", as: String.self) }
        if taken.contains(where: { $0 != id }) { throw ServiceError.conflict("A team named '\(name)' exists.") }
    }
}
