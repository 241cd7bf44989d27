import Foundation

/// The models an access token may call: registry names (`openai/gpt-4o`) and provider patterns (`anthropic/*`).
/// A token without one may call every active model. Matched case-insensitively, as model names are looked up.
public struct ModelScope: Sendable, Equatable, Codable {
    public let entries: [String]
    private let names: Set<String>
    /// The part before `/*` of each pattern, with its slash: `anthropic/`.
    private let prefixes: [String]

    /// Most entries one token may list; each is at most ``maxEntryLength`` characters.
    public static let maxEntries = 100
    public static let maxEntryLength = 200

    public init(_ entries: [String]) {
        self.entries = entries
        var names: Set<String> = []
        var prefixes: [String] = []
        for entry in entries.map({ $0.lowercased() }) {
            if entry.hasSuffix("/*") { prefixes.append(String(entry.dropLast())) } else { names.insert(entry) }
        }
        self.names = names
        self.prefixes = prefixes
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([String].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }

    public static func == (lhs: ModelScope, rhs: ModelScope) -> Bool { lhs.entries == rhs.entries }

    public func allows(_ modelName: String) -> Bool {
        let name = modelName.lowercased()
        return names.contains(name) || prefixes.contains { name.hasPrefix($0) && name.count > $0.count }
    }

    /// Checks a list a client sent (`models` of a token): 1 to 100 names or `prefix/*` patterns, no other wildcard.
    public static func checked(_ entries: [String], field: String = "models") throws(ServiceError) -> ModelScope {
        guard !entries.isEmpty, entries.count <= maxEntries else {
            throw .invalidField(field, "must list 1 to \(maxEntries) model names or patterns such as \"anthropic/*\" (leave it out for every model)")
        }
        for entry in entries {
            try TextInput.check(entry, field: field, maxCharacters: maxEntryLength)
            let body = entry.hasSuffix("/*") ? entry.dropLast(2) : Substring(entry)
            if body.trimmingCharacters(in: .whitespaces).isEmpty || body.contains("*") || entry.contains(where: \.isWhitespace) {
                throw .invalidField(field, "each entry is a model name or a pattern ending in /*, such as \"anthropic/*\"")
            }
        }
        return ModelScope(entries)
    }
}
