import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// Gives every request one id: the caller's `X-Request-Id` when it is safe to echo and log, else a new one.
///
/// It is on the context (usage records), in the logger's metadata and on every response, errors
/// included, so a client's report, a log line and a usage row can be matched.
public struct RequestIdMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let incoming = request.headers[.xRequestId], Self.isAcceptable(incoming) {
            context.requestId = incoming
        }
        context.logger[metadataKey: "request.id"] = .string(context.requestId)
        do {
            var response = try await next(request, context)
            response.headers[.xRequestId] = context.requestId
            return response
        } catch let error as any HTTPResponseError {
            throw RequestIdError(base: error, requestId: context.requestId)
        } catch {
            throw RequestIdError(base: ErrorResponse(ServiceError(.internalError, "Internal error.")), requestId: context.requestId)
        }
    }

    /// 1–128 characters of `[A-Za-z0-9._:-]`: nothing that could forge a log line or a header.
    static func isAcceptable(_ value: String) -> Bool {
        guard (1...128).contains(value.utf8.count) else { return false }
        return value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"): true
            default: false
            }
        }
    }
}

/// An error response with `X-Request-Id` added, whatever produced the error.
struct RequestIdError: HTTPResponseError {
    let base: any HTTPResponseError
    let requestId: String

    var status: HTTPResponse.Status { base.status }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try base.response(from: request, context: context)
        response.headers[.xRequestId] = requestId
        return response
    }
}

extension HTTPField.Name {
    static let xRequestId = Self("X-Request-Id")!
}
