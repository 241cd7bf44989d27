import Foundation
import NIOCore

/// Edits the top level of a JSON object as bytes: replace, remove or append members while every
/// other member stays exactly as sent, in its order, unknown fields included.
///
/// This is how a relay stays faithful: the client's (or the upstream's) JSON is scanned once for
/// its top-level members, never decoded and encoded again.
package struct JSONObjectEditor {
    /// One top-level member: the bytes of its key (quotes included) and of its value.
    package struct Member {
        package var key: String
        package var keyBytes: Range<Int>
        package var valueBytes: Range<Int>
    }

    private let bytes: [UInt8]
    package private(set) var members: [Member]
    private var replaced: [String: [UInt8]] = [:]
    private var removed: Set<String> = []
    private var appended: [(String, [UInt8])] = []

    /// Nil when the bytes are not one JSON object (the caller then treats the body as malformed).
    package init?(_ buffer: ByteBuffer) {
        self.init(Array(buffer.readableBytesView))
    }

    package init?(_ bytes: [UInt8]) {
        self.bytes = bytes
        // Scanned through a buffer pointer: no bounds checks or array retains in the byte loop.
        guard let members = bytes.withUnsafeBufferPointer({ Self.scan($0) }) else { return nil }
        self.members = members
    }

    package func contains(_ key: String) -> Bool { members.contains { $0.key == key } }

    /// The raw bytes of a member's value.
    package func rawValue(_ key: String) -> ArraySlice<UInt8>? {
        members.first { $0.key == key }.map { bytes[$0.valueBytes] }
    }

    /// The member's value as sent, or nil when it is absent or `null` (which optional fields treat alike).
    package func presentValue(_ key: String) -> ArraySlice<UInt8>? {
        rawValue(key).flatMap { $0.elementsEqual("null".utf8) ? nil : $0 }
    }

    /// The member's value decoded, for the few fields the pipeline reads. Plain integers, numbers,
    /// booleans and strings are read straight from the bytes; anything else goes to a decoder.
    package func value<T: Decodable>(_ key: String, as type: T.Type) -> T? {
        guard let raw = rawValue(key) else { return nil }
        if let scalar = Self.scalar(raw, as: type) { return scalar }
        return try? JSONDecoder().decode(T.self, from: Data(raw))
    }

    // Concrete readers for callers in other modules, where a generic call is not specialized.
    package func string(_ key: String) -> String? { value(key, as: String.self) }
    package func bool(_ key: String) -> Bool? { value(key, as: Bool.self) }
    package func int(_ key: String) -> Int? { value(key, as: Int.self) }
    package func double(_ key: String) -> Double? { value(key, as: Double.self) }

    private static func scalar<T>(_ raw: ArraySlice<UInt8>, as type: T.Type) -> T? {
        if type == Bool.self {
            return (raw.elementsEqual("true".utf8) ? true : raw.elementsEqual("false".utf8) ? false : nil) as? T
        }
        if type == String.self { return JSONStringBytes.unquoted(raw) as? T }
        let isPlainNumber = raw.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
        guard isPlainNumber, !raw.isEmpty else { return nil }
        let text = String(decoding: raw, as: UTF8.self)
        if type == Int.self { return Int(text) as? T }
        if type == Double.self { return Double(text) as? T }
        if type == UpstreamCount.self { return (Int(text).map { UpstreamCount($0) } ?? Double(text).map { UpstreamCount(Saturating.int($0)) }) as? T }
        return nil
    }

    /// Sets a member: in place when present, else appended at the end.
    package mutating func set(_ key: String, json: some Sequence<UInt8>) {
        if contains(key) {
            replaced[key] = Array(json)
            removed.remove(key)
        } else {
            appended.removeAll { $0.0 == key }
            appended.append((key, Array(json)))
        }
    }

    package mutating func set(_ key: String, _ value: some Encodable) {
        guard let data = try? ProviderJSON.encode(value) else { return }
        set(key, json: data)
    }

    /// Sets a string member (the model name on every relayed call) without an encoder.
    package mutating func set(_ key: String, _ value: String) {
        set(key, json: JSONStringBytes.quoted(value))
    }

    package mutating func remove(_ key: String) {
        removed.insert(key)
        appended.removeAll { $0.0 == key }
    }

    /// The edited object. Members left alone are copied byte for byte.
    package func result() -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(bytes.count + 64)
        out.writeInteger(UInt8(ascii: "{"))
        var first = true
        func comma() {
            if !first { out.writeInteger(UInt8(ascii: ",")) }
            first = false
        }
        for member in members where !removed.contains(member.key) {
            comma()
            if let value = replaced[member.key] {
                out.writeBytes(bytes[member.keyBytes.lowerBound..<member.valueBytes.lowerBound])
                out.writeBytes(value)
            } else {
                out.writeBytes(bytes[member.keyBytes.lowerBound..<member.valueBytes.upperBound])
            }
        }
        for (key, value) in appended {
            comma()
            out.writeBytes(JSONStringBytes.quoted(key))
            out.writeInteger(UInt8(ascii: ":"))
            out.writeBytes(value)
        }
        out.writeInteger(UInt8(ascii: "}"))
        return out
    }

    /// The top-level member `key` of an object replaced by `json`, scanning only up to it: the model
    /// name near the head of every relayed chunk and answer, without walking the rest.
    /// Nil when the bytes are not an object or the member is absent.
    package static func replacingMember(_ key: String, in buffer: ByteBuffer, with json: [UInt8]) -> ByteBuffer? {
        guard let located = memberValue(key, in: buffer) else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(buffer.readableBytes - located.count + json.count)
        write(buffer, replacing: located, with: json, into: &out)
        return out
    }

    /// Where a top-level member's value lies in `buffer`'s readable bytes (offsets from its reader
    /// index), scanning only the members before it; nil when the bytes are not an object or lack it.
    package static func memberValue(_ key: String, in buffer: ByteBuffer) -> Range<Int>? {
        buffer.readableBytesView.withContiguousStorageIfAvailable { b in
            var i = 0
            skipSpace(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            while true {
                guard let member = member(b, &i) else { return nil }
                let name = UnsafeBufferPointer(rebasing: b[(member.name.lowerBound + 1)..<(member.name.upperBound - 1)])
                if member.escaped ? JSONStringBytes.unquoted(b[member.name]) == key : name.elementsEqual(key.utf8) { return member.value }
                skipSpace(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        } ?? nil
    }

    /// Where the values of `keys` lie in `buffer`'s readable bytes, in one pass over the top level (keys
    /// absent are absent from the answer); empty when the bytes are not an object.
    package static func memberValues(_ keys: [String], in buffer: ByteBuffer) -> [String: Range<Int>] {
        buffer.readableBytesView.withContiguousStorageIfAvailable { b in
            var found: [String: Range<Int>] = [:]
            var i = 0
            skipSpace(b, &i)
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return found }
            i += 1
            while found.count < keys.count {
                guard let member = member(b, &i) else { return found }
                let name = UnsafeBufferPointer(rebasing: b[(member.name.lowerBound + 1)..<(member.name.upperBound - 1)])
                for key in keys where found[key] == nil {
                    if member.escaped ? JSONStringBytes.unquoted(b[member.name]) == key : name.elementsEqual(key.utf8) { found[key] = member.value }
                }
                skipSpace(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: ",") else { return found }
                i += 1
            }
            return found
        } ?? [:]
    }

    /// The byte ranges of the first `limit` elements of the JSON array at `range` of `buffer`'s readable bytes
    /// (empty when it is not an array).
    package static func arrayElements(_ range: Range<Int>, in buffer: ByteBuffer, limit: Int) -> [Range<Int>] {
        buffer.readableBytesView.withContiguousStorageIfAvailable { whole in
            let b = UnsafeBufferPointer(rebasing: whole[..<min(range.upperBound, whole.count)])
            var elements: [Range<Int>] = []
            var i = range.lowerBound
            guard i < b.count, b[i] == UInt8(ascii: "[") else { return elements }
            i += 1
            while elements.count < limit {
                skipSpace(b, &i)
                let start = i
                guard i < b.count, b[i] != UInt8(ascii: "]"), skipValue(b, &i) else { return elements }
                elements.append(start..<i)
                skipSpace(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: ",") else { return elements }
                i += 1
            }
            return elements
        } ?? []
    }

    /// Appends `buffer`'s readable bytes to `out` with the bytes at `range` (from ``memberValue(_:in:)``) replaced by `json`.
    package static func write(_ buffer: ByteBuffer, replacing range: Range<Int>, with json: [UInt8], into out: inout ByteBuffer) {
        let start = buffer.readerIndex
        if let head = buffer.getSlice(at: start, length: range.lowerBound) { out.writeImmutableBuffer(head) }
        out.writeBytes(json)
        if let tail = buffer.getSlice(at: start + range.upperBound, length: buffer.readableBytes - range.upperBound) { out.writeImmutableBuffer(tail) }
    }

    // MARK: Scanning

    private static func scan(_ b: UnsafeBufferPointer<UInt8>) -> [Member]? {
        var i = 0
        skipSpace(b, &i)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var members: [Member] = []
        members.reserveCapacity(16)
        skipSpace(b, &i)
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
            skipSpace(b, &i)
            return i == b.count ? members : nil
        }
        while true {
            guard let member = member(b, &i) else { return nil }
            // A plain name (the usual case) is its bytes; one with escapes goes to the decoder.
            let name = UnsafeBufferPointer(rebasing: b[(member.name.lowerBound + 1)..<(member.name.upperBound - 1)])
            guard let key = member.escaped ? JSONStringBytes.unquoted(b[member.name]) : String(decoding: name, as: UTF8.self) else { return nil }
            members.append(Member(key: key, keyBytes: member.name, valueBytes: member.value))
            skipSpace(b, &i)
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard b[i] == UInt8(ascii: "}") else { return nil }
            i += 1
            skipSpace(b, &i)
            return i == b.count ? members : nil
        }
    }

    /// One `"name": value` member from `i` (space before it skipped): the name's bytes with their
    /// quotes, whether it holds escapes, and the value's bytes; nil when the bytes are not a member.
    private static func member(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> (name: Range<Int>, escaped: Bool, value: Range<Int>)? {
        skipSpace(b, &i)
        let nameStart = i
        var escaped = false
        guard skipString(b, &i, escaped: &escaped) else { return nil }
        let name = nameStart..<i
        skipSpace(b, &i)
        guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        skipSpace(b, &i)
        let valueStart = i
        guard skipValue(b, &i) else { return nil }
        return (name, escaped, valueStart..<i)
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    /// Moves past a string starting at `i` (its opening quote).
    private static func skipString(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        var escaped = false
        return skipString(b, &i, escaped: &escaped)
    }

    /// Moves past a string; `escaped` is set when it holds a backslash or a raw control character.
    private static func skipString(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, escaped: inout Bool) -> Bool {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return false }
        i += 1
        while i < b.count {
            switch b[i] {
            case 0x00..<0x20:
                escaped = true
                i += 1
            case UInt8(ascii: "\\"):
                escaped = true
                i += 2
            case UInt8(ascii: "\""):
                i += 1
                return true
            default: i += 1
            }
        }
        return false
    }

    /// Moves past one value; nested objects and arrays are matched by depth, strings skipped whole.
    /// Scalars are taken up to the next delimiter (their validity is the upstream's business).
    private static func skipValue(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        guard i < b.count else { return false }
        switch b[i] {
        case UInt8(ascii: "\""): return skipString(b, &i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\""):
                    guard skipString(b, &i) else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        i += 1
                        return true
                    }
                default: break
                }
                i += 1
            }
            return false
        default:
            let start = i
            scalar: while i < b.count {
                switch b[i] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09: break scalar
                default: i += 1
                }
            }
            return i > start
        }
    }
}
