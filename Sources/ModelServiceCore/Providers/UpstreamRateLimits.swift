import Foundation

/// What a provider said about its rate limits on one answer: requests and tokens left and when they
/// reset (OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`), or a `Retry-After`. Read from
/// the upstream's headers, so every number is bounded and a header that cannot be read is ignored.
public struct UpstreamRateLimits: Sendable, Equatable {
    public var remainingRequests: Int?
    public var remainingTokens: Int?
    /// Milliseconds from the answer until the request and token windows reset.
    public var requestsResetMillis: Int64?
    public var tokensResetMillis: Int64?
    /// A 429's (or 503's) `Retry-After`, in milliseconds.
    public var retryAfterMillis: Int64?

    public init() {}

    /// Longest reset or wait believed: an upstream cannot take a deployment out of rotation for longer.
    package static let maxWaitMillis: Int64 = 3_600_000

    /// The rate-limit headers among `headers` (name, value), in one pass: names are compared only when they
    /// start like one, so an answer without any costs a byte check per header. Nil when there are none.
    package init?(headers: some Sequence<(name: String, value: String)>, now: Date = Date()) {
        var found: [String: String] = [:]
        for (name, value) in headers {
            guard let first = name.utf8.first, first | 0x20 == UInt8(ascii: "x") || first | 0x20 == UInt8(ascii: "a") || first | 0x20 == UInt8(ascii: "r")
            else { continue }
            let lowered = name.lowercased()
            if lowered.hasPrefix("x-ratelimit-") || lowered.hasPrefix("anthropic-ratelimit-") || lowered == "retry-after" { found[lowered] = value }
        }
        guard !found.isEmpty else { return nil }
        self.init(header: { found[$0] }, now: now)
    }

    /// Nil when the answer carried none of the headers (most answers of most providers).
    package init?(header: (String) -> String?, now: Date = Date()) {
        let cap = Duration.milliseconds(Self.maxWaitMillis)
        remainingRequests = Self.count(header("x-ratelimit-remaining-requests") ?? header("anthropic-ratelimit-requests-remaining"))
        remainingTokens = Self.count(header("x-ratelimit-remaining-tokens") ?? header("anthropic-ratelimit-tokens-remaining"))
        requestsResetMillis =
            Self.duration(header("x-ratelimit-reset-requests")) ?? Self.instant(header("anthropic-ratelimit-requests-reset"), now: now)
        tokensResetMillis = Self.duration(header("x-ratelimit-reset-tokens")) ?? Self.instant(header("anthropic-ratelimit-tokens-reset"), now: now)
        retryAfterMillis = RetryPolicy.retryAfter(header("retry-after"), now: now, cap: cap).map { Int64(Saturating.milliseconds($0)) }
        if remainingRequests == nil, remainingTokens == nil, retryAfterMillis == nil { return nil }
    }

    /// When nothing more may be sent, in milliseconds from the answer: the reset of an exhausted window, or `Retry-After`.
    public var exhaustedForMillis: Int64? {
        var wait: Int64?
        if remainingRequests == 0 { wait = requestsResetMillis ?? 1_000 }
        if remainingTokens == 0 { wait = max(wait ?? 0, tokensResetMillis ?? 1_000) }
        if let retryAfterMillis { wait = max(wait ?? 0, retryAfterMillis) }
        return wait.map { min(max($0, 0), Self.maxWaitMillis) }
    }

    private static func count(_ text: String?) -> Int? {
        guard let text, let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else { return nil }
        return value
    }

    /// OpenAI's reset durations: `1s`, `6m0s`, `1h2m3.5s`, `20ms`.
    package static func duration(_ text: String?) -> Int64? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.count <= 40 else { return nil }
        var total = 0.0
        var number = ""
        var chars = Array(text)[...]
        while let c = chars.first {
            if c.isNumber || c == "." {
                number.append(c)
                chars = chars.dropFirst()
                continue
            }
            guard let value = Double(number) else { return nil }
            number = ""
            let unit: Double
            if chars.starts(with: ["m", "s"]) {
                unit = 1
                chars = chars.dropFirst(2)
            } else {
                switch c {
                case "h": unit = 3_600_000
                case "m": unit = 60_000
                case "s": unit = 1_000
                default: return nil
                }
                chars = chars.dropFirst()
            }
            total += value * unit
        }
        if !number.isEmpty { total += (Double(number) ?? 0) * 1_000 }  // a bare number: seconds
        return Int64(Saturating.int(total, in: 0...Int(maxWaitMillis)))
    }

    /// Anthropic's reset instants (RFC 3339), as milliseconds from `now`.
    private static func instant(_ text: String?, now: Date) -> Int64? {
        guard let text, let date = Clock.parseISO8601(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        return Int64(Saturating.int(date.timeIntervalSince(now) * 1000, in: 0...Int(maxWaitMillis)))
    }
}
