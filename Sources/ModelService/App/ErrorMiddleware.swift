import Foundation
import Hummingbird
import Logging
import NIOCore

/// Turns every error into the JSON error shape, so no client ever gets an empty or HTML body.
///
/// ``APIError`` passes through; Hummingbird's own errors (unknown route, body too large) keep
/// their status; a database outage is a 503; anything else is a 500 whose log line carries the
/// request id but no request data.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw APIError(error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase)
        } catch let error as StorageError {
            context.logger.error("database error", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "The database is not reachable right now.")
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error where Database.isUnavailable(error) {
            // A pool connection lost mid-query or SQLite busy past its timeout: the same outage answer.
            context.logger.error("database error", metadata: ["error": "\(Database.describe(error))"])
            throw APIError(.serviceUnavailable, code: "database_unavailable", message: "The database is not reachable right now.")
        } catch {
            context.logger.error("unhandled error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            throw APIError(.internalServerError, code: "internal_error", message: "Internal error (request id \(context.id)).")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 413: "payload_too_large"
        default: "http_\(status.code)"
        }
    }
}

extension Request {
    /// The whole body, up to the context's limit; an empty body is a 400.
    public func collectJSONBody(context: some RequestContext) async throws -> ByteBuffer {
        var request = self
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: context.maxUploadSize)
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("The request body must be a JSON object.", code: "invalid_json") }
        // Foundation's decoder slows down sharply with depth: refuse deep bodies before it sees them.
        try JSONBody.checkNesting(buffer.readableBytesView)
        return buffer
    }

    /// Decodes a JSON body; a malformed body or a field of the wrong type is a 400 that names the field.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        let buffer = try await collectJSONBody(context: context)
        return try JSONBody.decode(type, from: Data(buffer.readableBytesView))
    }
}

/// JSON decoding with errors a client can act on.
public enum JSONBody {
    /// Deepest nesting of objects and arrays accepted in a request body.
    public static let nestingLimit = 128

    /// One linear pass counting `{`/`[` depth outside strings; throws a 400 past ``nestingLimit``.
    public static func checkNesting<Bytes: Sequence>(_ bytes: Bytes, maxDepth: Int = nestingLimit) throws(APIError) where Bytes.Element == UInt8 {
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
                if depth > maxDepth {
                    throw APIError.badRequest("The request body is nested deeper than \(maxDepth) levels.", code: "json_too_deep")
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            default:
                break
            }
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw Self.apiError(for: error)
        }
    }

    static func apiError(for error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidField(path(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return .invalidField(path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return .invalidField(path(context.codingPath), "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest("The request body is not valid JSON.", code: "invalid_json")
            }
            return .invalidField(path(context.codingPath), context.debugDescription)
        @unknown default:
            return .badRequest("The request body is not valid.", code: "invalid_json")
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
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

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is String?.Type: "a string"
        case is Bool.Type, is Bool?.Type: "a boolean"
        case is Int.Type, is Int?.Type, is Int64.Type, is Int64?.Type: "an integer"
        case is Double.Type, is Double?.Type: "a number"
        default: "\(type)".contains("Dictionary") ? "an object" : ("\(type)".contains("Array") ? "an array" : "a valid value")
        }
    }
}
