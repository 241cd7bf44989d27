/// A secret value (API key, token, master secret) that never prints itself.
///
/// `description`, `debugDescription` and string interpolation all give `<redacted>`, so a secret
/// that reaches a log line, an error message or a `dump` leaks nothing. Only code that must send
/// or compare the value reads `reveal`.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The plaintext. Call it only where the value leaves the process (an upstream request header,
    /// the decrypt endpoint) or is hashed/compared.
    public var reveal: String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Secret: Codable {
    public init(from decoder: any Decoder) throws {
        self.value = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encoding writes `<redacted>`: a secret placed in a response body by mistake leaks nothing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("<redacted>")
    }
}
