/// Prompt-cache counts a `cached-<read>-<write>-<write1h>` model reports, for the exact-cost tests: the
/// provider read `read` prompt tokens from its cache and wrote `write` (5-minute) and `write1h` (1-hour)
/// tokens to it, each provider in its own usage fields. Providers without cache writes report only reads.
public struct FakeCache: Sendable, Equatable {
    public let read: Int
    public let write: Int
    public let write1h: Int

    /// The counts a model name asks for, nil when it asks for none.
    public static func counts(model: String) -> FakeCache? {
        guard let range = model.range(of: "cached-") else { return nil }
        let numbers = model[range.upperBound...].split(separator: "-").prefix(3).compactMap { Int($0) }
        guard numbers.count == 3, numbers.allSatisfy({ (0...100_000_000).contains($0) }) else { return nil }
        return FakeCache(read: numbers[0], write: numbers[1], write1h: numbers[2])
    }

    /// Anthropic's usage fields for `input` uncached prompt tokens: reads and writes apart, writes split by lifetime.
    func anthropicUsage(input: Int, output: Int) -> [String: Any] {
        [
            "input_tokens": input, "output_tokens": output, "cache_read_input_tokens": read, "cache_creation_input_tokens": write + write1h,
            "cache_creation": ["ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": write1h],
        ]
    }
}
