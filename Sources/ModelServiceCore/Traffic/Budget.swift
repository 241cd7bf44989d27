import Foundation
import SQLKit

/// A spending limit for one user, one access token or one team over a UTC period, as the API shows it.
public struct Budget: Sendable, Codable, Equatable {
    public enum Period: String, Sendable, Codable, CaseIterable {
        case day, month, total

        /// The start of the period holding `time` (UTC), in milliseconds. Integer arithmetic (the day
        /// number's place in its month, as in Howard Hinnant's `civil_from_days`), not a calendar: it runs
        /// on every call with a budget, and Foundation's calendar cost ~4,000 instructions a call.
        package func start(at time: Int64) -> Int64 {
            let millisPerDay: Int64 = 86_400_000
            // Floor division, so times before 1970 fall in the right day.
            let day = time >= 0 ? time / millisPerDay : -((-(time + 1)) / millisPerDay) - 1
            switch self {
            case .total:
                return 0
            case .day:
                return day * millisPerDay
            case .month:
                // Days in a 400-year era start on 1 March 0000, so leap days fall at a year's end.
                let shifted = day + 719_468
                let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
                let dayOfEra = shifted - era * 146_097
                let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
                let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
                let monthFromMarch = (5 * dayOfYear + 2) / 153
                let dayOfMonth = dayOfYear - (153 * monthFromMarch + 2) / 5  // 0 on the first
                return (day - dayOfMonth) * millisPerDay
            }
        }

        /// The end of the period that starts at `start`; nil for `total`, which never ends.
        package func end(after start: Int64) -> Int64? {
            guard self != .total else { return nil }
            let next = Self.utc.date(byAdding: self == .day ? .day : .month, value: 1, to: Clock.date(fromMillis: start))
            return next.map(Clock.millis(from:))
        }

        package static let utc: Calendar = {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            return calendar
        }()
    }

    public var id: String
    public var userId: String?
    public var tokenId: String?
    /// Set for a team's budget: every call made for the team counts against it.
    public var teamId: String?
    public var period: Period
    public var maxCost: Double?
    public var maxTokens: Int?
    public var softThreshold: Double
    /// Spent in the current period (USD and tokens), settled calls only.
    public var spent: Double
    public var spentTokens: Int
    /// Held by calls in flight (their estimates), released when they settle.
    public var reserved: Double
    public var reservedTokens: Int
    /// Left in the current period; nil when that dimension has no maximum.
    public var remaining: Double?
    public var remainingTokens: Int?
    public var periodStart: String
    public var periodEnd: String?
    /// When spending crossed `softThreshold` in the current period (recorded once, also in the audit log).
    public var softThresholdReachedAt: String?
    public var createdAt: String
    public var updatedAt: String

    /// Read at `now`: a row whose stored period has ended shows the new, empty period.
    package init(row: any SQLRow, now: Int64) throws {
        id = try row.decode(column: "id", as: String.self)
        userId = try row.decode(column: "user_id", as: String?.self)
        tokenId = try row.decode(column: "token_id", as: String?.self)
        teamId = try row.decode(column: "team_id", as: String?.self)
        period = Period(rawValue: try row.decode(column: "period", as: String.self)) ?? .total
        maxCost = try row.decode(column: "max_cost", as: Double?.self)
        maxTokens = try row.decode(column: "max_tokens", as: Int?.self)
        softThreshold = try row.decode(column: "soft_threshold", as: Double.self)
        let storedStart = try row.decode(column: "period_start", as: Int64.self)
        let currentStart = period.start(at: now)
        let current = storedStart >= currentStart
        spent = try current ? row.decode(column: "spent_cost", as: Double.self) : 0
        spentTokens = try current ? row.decode(column: "spent_tokens", as: Int.self) : 0
        // Headroom leased by instances (PostgreSQL) is held for calls to come, not by calls in flight.
        let leasedCost = row.contains(column: "leased_cost") ? try row.decode(column: "leased_cost", as: Double.self) : 0
        let leasedTokens = row.contains(column: "leased_tokens") ? try row.decode(column: "leased_tokens", as: Int.self) : 0
        let reservedCost = try current ? row.decode(column: "reserved_cost", as: Double.self) - leasedCost : 0
        // Sums of doubles leave residues such as 3e-18 where every reservation has been released.
        reserved = reservedCost > 1e-9 ? reservedCost : 0
        reservedTokens = try current ? max(0, row.decode(column: "reserved_tokens", as: Int.self) - leasedTokens) : 0
        let (spentNow, spentTokensNow) = (spent, spentTokens)
        remaining = maxCost.map { max(0, $0 - spentNow) }
        remainingTokens = maxTokens.map { max(0, $0 - spentTokensNow) }
        periodStart = Clock.iso8601(millis: currentStart)
        periodEnd = period.end(after: currentStart).map(Clock.iso8601(millis:))
        let softPeriod = try row.decode(column: "soft_period", as: Int64?.self)
        let softReachedAt = try row.decode(column: "soft_reached_at", as: Int64?.self)
        softThresholdReachedAt = softPeriod == currentStart ? softReachedAt.map(Clock.iso8601(millis:)) : nil
        createdAt = Clock.iso8601(millis: try row.decode(column: "created_at", as: Int64.self))
        updatedAt = Clock.iso8601(millis: try row.decode(column: "updated_at", as: Int64.self))
    }

    /// How the budget is named in a refusal.
    package var label: String {
        let owner = userId.map { "user '\($0)'" } ?? teamId.map { "team \($0)" } ?? "access token \(tokenId ?? "")"
        return "\(period == .day ? "daily" : period == .month ? "monthly" : "total") budget \(id) of \(owner)"
    }
}
