/// The one check for text a client sends: a length in characters *and* in UTF-8 bytes, and no
/// control characters.
///
/// Characters alone are not a bound: "a" followed by 5,000 combining marks is one character and
/// 10 KB. NUL is refused because PostgreSQL cannot store it in TEXT (a NUL once stopped usage
/// accounting for good); the other C0/C1 controls because no name, id or filter needs them.
/// Generic over the field name so any door (REST, console, gateway headers) can reuse it.
public enum TextInput {
    /// Bytes allowed per character when a caller gives no byte limit: room for any script, not for stacked marks.
    public static let bytesPerCharacter = 4

    /// The usual limits: names and ids 200 characters, query parameters 1,000, free text 4,000.
    public static let nameCharacters = 200
    public static let queryCharacters = 1_000
    public static let freeTextCharacters = 4_000

    /// Returns `value` unchanged when it passes; else a 400 naming `field` (never echoing the value).
    @discardableResult
    public static func check(
        _ value: String,
        field: String,
        maxCharacters: Int = nameCharacters,
        maxBytes: Int? = nil,
        allowLineBreaks: Bool = false
    ) throws(ServiceError) -> String {
        let byteLimit = maxBytes ?? maxCharacters * bytesPerCharacter
        if value.utf8.count > byteLimit {
            throw .invalidField(field, "must be at most \(maxCharacters) characters and \(byteLimit) bytes of UTF-8")
        }
        if let problem = controlCharacterProblem(value, allowLineBreaks: allowLineBreaks) {
            throw .invalidField(field, problem)
        }
        if value.count > maxCharacters {
            throw .invalidField(field, "must be at most \(maxCharacters) characters and \(byteLimit) bytes of UTF-8")
        }
        return value
    }

    /// Optional values pass through as nil.
    @discardableResult
    public static func check(
        _ value: String?,
        field: String,
        maxCharacters: Int = nameCharacters,
        maxBytes: Int? = nil,
        allowLineBreaks: Bool = false
    ) throws(ServiceError) -> String? {
        guard let value else { return nil }
        let checked: String = try check(value, field: field, maxCharacters: maxCharacters, maxBytes: maxBytes, allowLineBreaks: allowLineBreaks)
        return checked
    }

    /// Why `value` holds a forbidden control character, or nil. Tab, LF and CR pass only with `allowLineBreaks`.
    public static func controlCharacterProblem(_ value: String, allowLineBreaks: Bool = false) -> String? {
        for scalar in value.unicodeScalars where isControl(scalar) {
            if allowLineBreaks, scalar == "\n" || scalar == "\r" || scalar == "\t" { continue }
            return scalar.value == 0 ? "must not contain NUL characters" : "must not contain control characters"
        }
        return nil
    }

    /// C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F).
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
