import Foundation
import HTTPTypes
import Hummingbird

/// Errors in Anthropic's shape, `{"type":"error","error":{"type","message"}}`, for the `/v1/messages` door.
///
/// The status stays the one the OpenAI door answers with; only the body differs. Errors from the call
/// pipeline already carry Anthropic's type (``AnthropicErrorRenderer``); the others (auth, body) get
/// the type their status means.
enum AnthropicErrorShape {
    /// The error types Anthropic's API and SDKs know.
    static let types: Set<String> = [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "request_too_large", "rate_limit_error",
        "api_error", "overloaded_error",
    ]

    static func type(forStatus status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 500...: "api_error"
        default: "invalid_request_error"
        }
    }

    static func type(for error: APIError) -> String {
        let status = Int(error.status.code)
        if status == 413 || !types.contains(error.type) { return type(forStatus: status) }
        return error.type
    }

    static func body(for error: APIError) -> Data {
        let body: JSONValue = .object([
            "type": .string("error"),
            "error": .object(["type": .string(type(for: error)), "message": .string(error.message)]),
        ])
        return (try? JSONResponse<JSONValue>.encoder().encode(body)) ?? Data()
    }

    static func response(for error: APIError) -> Response {
        var fields = error.headers
        fields[.contentType] = "application/json"
        // The SDKs read the reason from the body; the code stays visible for operators and logs.
        fields[.init("x-model-service-error-code")!] = error.code
        return Response(status: error.status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body(for: error))))
    }

    /// A failure after the stream began: the status is already 200, so it is said as `event: error`.
    static func streamEvent(for error: CallError) -> ByteBuffer {
        AnthropicStreamTranslator.frame(event: "error", json: body(for: AnthropicErrorRenderer.render(error)))
    }
}

/// Renders every error of the `/v1/messages` routes in Anthropic's shape, after the service's own
/// ``ErrorMiddleware`` has turned it into an ``APIError``.
struct AnthropicErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await ErrorMiddleware<Context>().handle(request, context: context, next: next)
        } catch let error as APIError {
            return AnthropicErrorShape.response(for: error)
        }
    }
}
