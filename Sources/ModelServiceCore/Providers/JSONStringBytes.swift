import Foundation

/// JSON strings to and from bytes for the relay's few edits (member names, the model name),
/// without a JSONEncoder/JSONDecoder round per string: those cost tens of thousands of
/// instructions each, several times per call.
package enum JSONStringBytes {
    /// `text` as a JSON string literal, quotes included, escaped as RFC 8259 requires.
    package static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(text.utf8.count + 2)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// The text of a JSON string literal (quotes included in `literal`); escapes are left to the
    /// decoder, which the common case (none) never needs. Nil when it is not a valid string.
    package static func unquoted<Bytes: BidirectionalCollection<UInt8>>(_ literal: Bytes) -> String? {
        guard literal.count >= 2, literal.first == UInt8(ascii: "\""), literal.last == UInt8(ascii: "\"") else { return nil }
        let inner = literal.dropFirst().dropLast()
        if !inner.contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            return String(validating: inner, as: UTF8.self)
        }
        return try? JSONDecoder().decode(String.self, from: Data(literal))
    }
}
