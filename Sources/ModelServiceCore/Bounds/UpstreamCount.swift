/// A token count as an upstream reported it, read saturating: any JSON number (2^64, 1e300, a
/// fraction, a negative) becomes a count in `0...TokenCount.max`, so a hostile or broken upstream
/// can neither trap the process nor fail the call with a count.
public struct UpstreamCount: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral {
    public let value: Int

    public init(_ value: Int) { self.value = TokenCount.bounded(value) }

    public init(integerLiteral value: Int) { self.init(value) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let whole = try? container.decode(Int.self) {
            self.init(whole)
        } else {
            self.init(Saturating.int(try container.decode(Double.self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

extension Optional where Wrapped == UpstreamCount {
    /// The count, or 0 when the upstream left it out.
    package var count: Int { self?.value ?? 0 }
}
