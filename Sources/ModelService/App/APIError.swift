import Foundation
import HTTPTypes
import Hummingbird

/// Every error the service answers with: `{"error": {"code", "message", "type"}}`.
///
/// The shape is OpenAI's error shape with `code` always set, so `/api/*` clients read
/// `error.code`/`error.message` and OpenAI SDKs on `/v1/*` read `error.message`/`error.type`.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var type: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, type: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.type = type ?? Self.defaultType(for: status)
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var type: String
        }
        var error: Detail
    }

    /// The JSON body. Sorted keys: the same error is the same bytes every time (401s must not differ at all).
    public func jsonBody() throws -> Data {
        try JSONResponse<Body>.encoder().encode(Body(error: .init(code: code, message: message, type: type)))
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try jsonBody()
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func defaultType(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 409: "conflict_error"
        case 429: "rate_limit_error"
        case 500..<600: "api_error"
        default: "invalid_request_error"
        }
    }

    // MARK: The common cases

    /// The same answer for a missing, unknown, expired or revoked token: it says nothing of which.
    public static func unauthorized() -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: "A valid access token is required (Authorization: Bearer <token>).",
                 headers: [.wwwAuthenticate: "Bearer"])
    }

    public static func forbidden(_ message: String = "This access token may not do that.") -> APIError {
        APIError(.forbidden, code: "forbidden", message: message)
    }

    /// A 400 that names the field at fault.
    public static func invalidField(_ field: String, _ problem: String) -> APIError {
        APIError(.badRequest, code: "invalid_field", message: "\(field): \(problem)")
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(.badRequest, code: code, message: message)
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) not found")
    }

    /// A body over the route's size limit (`MAX_API_BODY_BYTES` or `MAX_REQUEST_BYTES`).
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", message: "The request body is larger than \(limit) bytes.")
    }

    public static func conflict(_ message: String) -> APIError {
        APIError(.conflict, code: "conflict", message: message)
    }
}
