import Foundation

/// Totals of requests, tokens and cost over a time range, grouped by model, provider, user or day.
public struct UsageReport: Sendable, Codable, Equatable {
    public struct Totals: Sendable, Codable, Equatable {
        public var requests: Int
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int
        public var cost: Double

        /// Adds a group's sums (read from the database: saturating).
        package mutating func add(_ other: Totals) {
            requests = Saturating.add(requests, other.requests)
            promptTokens = Saturating.add(promptTokens, other.promptTokens)
            completionTokens = Saturating.add(completionTokens, other.completionTokens)
            totalTokens = Saturating.add(totalTokens, other.totalTokens)
            cost += other.cost
        }

        package init(requests: Int, promptTokens: Int, completionTokens: Int, totalTokens: Int, cost: Double) {
            self.requests = requests
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.totalTokens = totalTokens
            self.cost = cost
        }
    }

    public struct Group: Sendable, Codable, Equatable {
        public var key: String
        public var totals: Totals

        package init(key: String, totals: Totals) {
            self.key = key
            self.totals = totals
        }
    }

    public enum Grouping: String, Sendable, Codable, CaseIterable {
        case model, provider, user, day, team, token

        /// A fixed expression per grouping (never client text): the column, or the day number.
        package var expression: String {
            switch self {
            case .model: "model"
            case .provider: "provider"
            case .user: "user_id"
            case .day: "at / 86400000"
            case .team: "team_id"
            case .token: "token_id"
            }
        }
    }

    public var from: String
    public var to: String
    public var userId: String?
    /// Set when the report covers one team's calls.
    public var teamId: String?
    public var groupBy: Grouping?
    public var totals: Totals
    public var groups: [Group]
}
