import Foundation
import SQLKit

/// A team: users who share keys and budgets, managed by its team admins (`/api/teams`).
public struct Team: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var memberCount: Int
    public var createdAt: String
    public var updatedAt: String

    package init(row: any SQLRow, memberCount: Int) throws {
        id = try row.decode(column: "id", as: String.self)
        name = try row.decode(column: "name", as: String.self)
        self.memberCount = memberCount
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        updatedAt = Clock.iso8601(millis: try row.decode(column: "updated_at", as: Int64.self))
    }
}

/// What a member may do in a team: a `team-admin` manages its members, tokens, keys and budgets and sees its usage.
public enum TeamRole: String, Sendable, Codable, CaseIterable {
    case teamAdmin = "team-admin"
    case member
}

/// One user's membership of one team.
public struct TeamMember: Sendable, Codable, Equatable {
    public var teamId: String
    public var userId: String
    public var role: TeamRole
    public var createdAt: String

    package init(row: any SQLRow) throws {
        teamId = try row.decode(column: "team_id", as: String.self)
        userId = try row.decode(column: "user_id", as: String.self)
        role = TeamRole(rawValue: try row.decode(column: "role", as: String.self)) ?? .member
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
    }
}

extension AuditLog.Subject {
    package static func team(id: String, userId: String? = nil) -> AuditLog.Subject { AuditLog.Subject(type: "team", id: id, userId: userId) }
}
