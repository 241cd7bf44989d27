import Foundation
import SQLKit

/// A team: users who share keys and budgets, managed by its team admins (`/api/teams`).
public struct Team: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var memberCount: Int
    /// The team's own request and token limits per minute, per model (or over every model), shared by its calls.
    public var limits: [TeamLimit]
    public var createdAt: String
    public var updatedAt: String

    package init(row: any SQLRow, memberCount: Int) throws {
        id = try row.decode(column: "id", as: String.self)
        name = try row.decode(column: "name", as: String.self)
        self.memberCount = memberCount
        // Read from a row a person may have edited: an unreadable list is no limit rather than a failed reload.
        limits = (try? JSONDecoder().decode([TeamLimit].self, from: Data(try row.decode(column: "limits", as: String.self).utf8))) ?? []
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        updatedAt = Clock.iso8601(millis: try row.decode(column: "updated_at", as: Int64.self))
    }
}

/// One of a team's limits: requests and tokens per minute of its calls to `model` (a registry name, or `*` for
/// every model together), counted across instances like a model's own limits.
public struct TeamLimit: Sendable, Codable, Equatable {
    public var model: String
    public var rateLimitPerMinute: Int?
    public var tokenLimitPerMinute: Int?

    public static let everyModel = "*"
    public static let maxPerTeam = 100

    public init(model: String, rateLimitPerMinute: Int? = nil, tokenLimitPerMinute: Int? = nil) {
        self.model = model
        self.rateLimitPerMinute = rateLimitPerMinute
        self.tokenLimitPerMinute = tokenLimitPerMinute
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        // Bounded as a model's limits are (outside data: a client's body, or a stored row).
        rateLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .rateLimitPerMinute).map { Saturating.clamp($0, to: 1...1_000_000_000) }
        tokenLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .tokenLimitPerMinute).map { Saturating.clamp($0, to: 1...1_000_000_000_000) }
    }

    /// Checks a list a client sent: at most 100, each naming a model (or `*`) and at least one limit.
    package static func checked(_ limits: [TeamLimit]) throws(ServiceError) -> [TeamLimit] {
        guard limits.count <= maxPerTeam else { throw .invalidField("limits", "must hold at most \(maxPerTeam) entries") }
        for limit in limits {
            try TextInput.check(limit.model, field: "limits.model", maxCharacters: 200)
            if limit.model.isEmpty { throw .invalidField("limits.model", "must name a model, or * for every model") }
            if limit.rateLimitPerMinute == nil && limit.tokenLimitPerMinute == nil {
                throw .invalidField("limits", "each entry gives rateLimitPerMinute, tokenLimitPerMinute or both")
            }
        }
        return limits
    }

    /// The windows of `limits` a call of `model` by team `teamId` counts against.
    package static func windows(_ limits: [TeamLimit], teamId: String, model: Model) -> [RateWindow] {
        var windows: [RateWindow] = []
        for limit in limits where limit.model == everyModel || limit.model.lowercased() == model.name.lowercased() {
            let counted = limit.model == everyModel ? RateWindow.anyModel : model.id
            if let requests = limit.rateLimitPerMinute {
                windows.append(RateWindow(model: counted, caller: "team:\(teamId)", unit: .requests, spanMillis: 60_000, limit: requests))
            }
            if let tokens = limit.tokenLimitPerMinute {
                windows.append(RateWindow(model: counted, caller: "team:\(teamId)", unit: .tokens, spanMillis: 60_000, limit: tokens))
            }
        }
        return windows
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
