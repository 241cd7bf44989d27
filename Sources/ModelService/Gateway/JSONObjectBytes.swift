import Foundation

/// A JSON object kept as its bytes, edited in place: the Anthropic relay sends the client's JSON (and
/// returns the upstream's) with only `model` changed and missing defaults appended, so key order,
/// number spelling and fields the gateway does not know all survive.
struct JSONObjectBytes: Sendable {
    private(set) var bytes: [UInt8]

    /// Nil unless `bytes` hold one JSON object (surrounding whitespace allowed).
    init?(_ bytes: some Sequence<UInt8>) {
        self.bytes = Array(bytes)
        guard let range = Self.objectRange(self.bytes), Self.members(self.bytes, object: range) != nil else { return nil }
    }

    /// The byte range of the value at `path` (keys of nested objects), or nil when absent.
    func valueRange(at path: [String]) -> Range<Int>? {
        guard var object = Self.objectRange(bytes) else { return nil }
        for (depth, key) in path.enumerated() {
            guard let member = Self.members(bytes, object: object)?.last(where: { $0.key == key }) else { return nil }
            if depth == path.count - 1 { return member.value }
            guard bytes[member.value.lowerBound] == UInt8(ascii: "{") else { return nil }
            object = member.value
        }
        return nil
    }

    func contains(_ key: String) -> Bool { valueRange(at: [key]) != nil }

    /// Replaces the value at `path` with `json` (already encoded); false when there is no such value.
    @discardableResult
    mutating func replaceValue(at path: [String], with json: some Collection<UInt8>) -> Bool {
        guard let range = valueRange(at: path) else { return false }
        bytes.replaceSubrange(range, with: json)
        return true
    }

    /// Adds `"key": json` as the object's last member.
    mutating func append(key: String, json: some Collection<UInt8>) {
        guard let object = Self.objectRange(bytes) else { return }
        let isEmpty = Self.members(bytes, object: object)?.isEmpty ?? true
        var insertion: [UInt8] = isEmpty ? [] : [UInt8(ascii: ",")]
        insertion += Self.encodeString(key) + [UInt8(ascii: ":")] + json
        bytes.insert(contentsOf: insertion, at: object.upperBound - 1)
    }

    /// A string as a JSON string literal.
    static func encodeString(_ string: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", Int(byte)).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    // MARK: Scanning

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func skipSpace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    }

    /// The range from the opening `{` through the matching `}` of the top-level object.
    private static func objectRange(_ bytes: [UInt8]) -> Range<Int>? {
        var start = 0
        skipSpace(bytes, &start)
        guard start < bytes.count, bytes[start] == UInt8(ascii: "{"), let end = valueEnd(bytes, from: start) else { return nil }
        var rest = end
        skipSpace(bytes, &rest)
        return rest == bytes.count ? start..<end : nil
    }

    /// Each member of the object at `object` (from `{` through `}`): its key (escapes kept raw) and value range.
    private static func members(_ bytes: [UInt8], object: Range<Int>) -> [(key: String, value: Range<Int>)]? {
        var result: [(key: String, value: Range<Int>)] = []
        var index = object.lowerBound + 1
        skipSpace(bytes, &index)
        if index < object.upperBound, bytes[index] == UInt8(ascii: "}") { return result }
        while index < object.upperBound {
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = valueEnd(bytes, from: index) else { return nil }
            let key = String(decoding: bytes[(index + 1)..<(keyEnd - 1)], as: UTF8.self)
            index = keyEnd
            skipSpace(bytes, &index)
            guard index < object.upperBound, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace(bytes, &index)
            guard index < object.upperBound, let end = valueEnd(bytes, from: index) else { return nil }
            result.append((key, index..<end))
            index = end
            skipSpace(bytes, &index)
            guard index < object.upperBound else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return result }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
            skipSpace(bytes, &index)
        }
        return nil
    }

    /// The index just past the value starting at `start`; nil when it is cut off.
    private static func valueEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            var index = start + 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""): return index + 1
                default: index += 1
                }
            }
            return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = valueEnd(bytes, from: index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count, !isSpace(bytes[index]), ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[index]) {
                index += 1
            }
            return index > start ? index : nil
        }
    }
}
