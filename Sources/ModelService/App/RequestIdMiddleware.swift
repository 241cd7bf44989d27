import Foundation
import HTTPTypes
import Hummingbird

/// Gives every request one id that clients, logs, audit rows and traces share.
///
/// A well-formed incoming `X-Request-Id` (1–128 of `[A-Za-z0-9._:-]`) is kept so a caller's own
/// correlation id survives; anything else is replaced, so a header cannot inject text into logs.
/// Registered first so error responses carry the header too.
public struct RequestIdMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    public func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let requestId = request.headers[.xRequestId].flatMap { Self.isWellFormed($0) ? $0 : nil } ?? UUID().uuidString.lowercased()
        context.requestId = requestId
        context.logger[metadataKey: "request.id"] = .string(requestId)
        do {
            var response = try await next(request, context)
            response.headers[.xRequestId] = requestId
            return response
        } catch let error as any HTTPResponseError {
            throw RequestIdError(base: error, requestId: requestId)
        }
    }

    static func isWellFormed(_ value: String) -> Bool {
        guard (1...128).contains(value.utf8.count) else { return false }
        return value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }
}

/// An error response with the request id header added; the body and status stay the wrapped error's.
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
    public static let xRequestId = Self("X-Request-Id")!
}
