import Foundation

/// Timestamps as stored: milliseconds since 1970 (BIGINT in both databases), written in responses
/// as ISO 8601 UTC with milliseconds.
public enum Clock {
    public static func nowMillis() -> Int64 {
        millis(from: Date())
    }

    public static func date(fromMillis millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    public static func millis(from date: Date) -> Int64 {
        Int64(Saturating.int((date.timeIntervalSince1970 * 1000).rounded()))
    }

    public static func iso8601(millis: Int64) -> String {
        date(fromMillis: millis).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses an ISO 8601 timestamp with or without fractional seconds.
    public static func parseISO8601(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
