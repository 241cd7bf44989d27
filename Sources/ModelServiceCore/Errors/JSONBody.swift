import Foundation
import NIOCore

/// JSON decoding with errors a client can act on.
public enum JSONBody {
    /// Deepest nesting of objects and arrays accepted in a request body.
    public static let nestingLimit = 128

    /// One linear pass counting `{`/`[` depth outside strings; throws a 400 past ``nestingLimit``.
    /// Takes a ByteBuffer (or bytes) rather than a generic sequence: a generic called from the HTTP
    /// target is not specialized across the module boundary and cost a witness call per byte.
    public static func checkNesting(_ buffer: ByteBuffer, maxDepth: Int = nestingLimit) throws(ServiceError) {
        if buffer.withUnsafeReadableBytes({ nests(deeperThan: maxDepth, $0) }) {
            throw ServiceError(.jsonTooDeep, "The request body is nested deeper than \(maxDepth) levels.")
        }
    }

    public static func checkNesting(_ bytes: [UInt8], maxDepth: Int = nestingLimit) throws(ServiceError) {
        try checkNesting(ByteBuffer(bytes: bytes), maxDepth: maxDepth)
    }

    private static func nests(deeperThan maxDepth: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > maxDepth { return true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            default:
                break
            }
        }
        return false
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(ServiceError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw Self.serviceError(for: error)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.invalidJSON, "The request body is not valid.")
        }
    }

    package static func serviceError(for error: DecodingError) -> ServiceError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidField(path(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return .invalidField(path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return .invalidField(path(context.codingPath), "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return ServiceError(.invalidJSON, "The request body is not valid JSON.")
            }
            return .invalidField(path(context.codingPath), context.debugDescription)
        @unknown default:
            return ServiceError(.invalidJSON, "The request body is not valid.")
        }
    }

    package static func path(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result.isEmpty ? "body" : result
    }

    package static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is String?.Type: "a string"
        case is Bool.Type, is Bool?.Type: "a boolean"
        case is Int.Type, is Int?.Type, is Int64.Type, is Int64?.Type: "an integer"
        case is Double.Type, is Double?.Type: "a number"
        default: "\(type)".contains("Dictionary") ? "an object" : ("\(type)".contains("Array") ? "an array" : "a valid value")
        }
    }
}
