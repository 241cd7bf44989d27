import Foundation
import Hummingbird

/// Writes the fakes' small `[String: Any]` trees as JSON straight into a ByteBuffer.
///
/// JSONSerialization bridges every value to Foundation objects (about 50 µs per answer on Linux); this walks the Swift
/// values directly and costs a few µs, which keeps the fake far faster than the gateway it is measured against.
enum FakeJSONWriter {
    static func write(_ value: Any, into buffer: inout ByteBuffer) {
        switch value {
        case let string as String:
            writeString(string, into: &buffer)
        case let substring as Substring:
            writeString(String(substring), into: &buffer)
        case let bool as Bool:
            buffer.writeStaticString(bool ? "true" : "false")
        case let int as Int:
            buffer.writeString(String(int))
        case let double as Double:
            buffer.writeString(double.isFinite ? String(double) : "null")
        case let raw as FakeRawJSON:
            buffer.writeString(raw.text)
        case let object as [String: Any]:
            buffer.writeInteger(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        case let objects as [[String: Any]]:
            writeArray(objects, into: &buffer)
        case let strings as [String]:
            writeArray(strings, into: &buffer)
        case let array as [Any]:
            writeArray(array, into: &buffer)
        default:
            // NSNull and anything unexpected: the fakes only use NSNull for JSON null.
            buffer.writeStaticString("null")
        }
    }

    private static func writeArray(_ array: [some Any], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "["))
        for (index, element) in array.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            write(element, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    private static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        let utf8 = string.utf8
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            buffer.writeString(string)
        } else {
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case 0..<0x20:
                    buffer.writeStaticString("\\u00")
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0xF)])
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
