/// Arithmetic and conversions for numbers that came from outside the process: a client, an
/// upstream, a file or the database.
///
/// A Swift integer overflow or an out-of-range `Int(Double)` traps, and a trap takes the whole
/// service down for every user. Every such number goes through these instead: they clamp to the
/// type's range (NaN reads as zero) and never trap.
public enum Saturating {
    /// `value` as an `Int`, clamped to `Int`'s range; NaN is 0.
    public static func int(_ value: Double) -> Int {
        guard !value.isNaN else { return 0 }
        // 2^63 is the first Double past Int.max; -2^63 is Int.min exactly.
        if value >= 0x1p63 { return .max }
        if value < -0x1p63 { return .min }
        return Int(value)
    }

    /// `value` as an `Int`, clamped to `range`; NaN is the range's lower bound.
    public static func int(_ value: Double, in range: ClosedRange<Int>) -> Int {
        guard !value.isNaN else { return range.lowerBound }
        return clamp(int(value), to: range)
    }

    /// `value` as an `Int` from any integer type, clamped to `Int`'s range.
    public static func int(_ value: some BinaryInteger) -> Int { Int(clamping: value) }

    /// `value` as an `Int64`, clamped.
    public static func int64(_ value: some BinaryInteger) -> Int64 { Int64(clamping: value) }

    public static func clamp(_ value: Int, to range: ClosedRange<Int>) -> Int {
        min(max(value, range.lowerBound), range.upperBound)
    }

    public static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    public static func subtract(_ a: Int, _ b: Int) -> Int {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? .max : .min) : difference
    }

    public static func subtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? .max : .min) : difference
    }

    public static func multiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }

    /// Nanoseconds of a duration, rounded up (a deadline computed from it is never early), clamped to `Int64`'s range.
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return Int64(add(multiply(int(seconds), 1_000_000_000), int((attoseconds + 999_999_999) / 1_000_000_000)))
    }

    /// Whole milliseconds of a duration, clamped to `Int`'s range.
    public static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return add(multiply(int(seconds), 1000), int(attoseconds / 1_000_000_000_000_000))
    }
}

/// Token counts as the service keeps them: what an upstream reports, what a client asks for and what
/// a usage record stores are each clamped to `0...TokenCount.max`.
///
/// A billion tokens is far past any model's context (the largest are a few million), and small
/// enough that sums over billions of records stay inside 64 bits on both databases.
public enum TokenCount {
    public static let max = 1_000_000_000

    /// `value` clamped to `0...max`.
    public static func bounded(_ value: Int) -> Int { Saturating.clamp(value, to: 0...max) }

    /// The bounded sum of two counts (each already bounded or not).
    public static func sum(_ a: Int, _ b: Int) -> Int { bounded(Saturating.add(bounded(a), bounded(b))) }
}
