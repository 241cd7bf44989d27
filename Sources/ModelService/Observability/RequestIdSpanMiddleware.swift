import Foundation
import Hummingbird
import ModelServiceCore

/// Hands the request id to `TracingMiddleware` as a request header it records
/// (`http.request.header.x_request_id`), so the request span carries the id even when we generated it.
/// Only installed when tracing is on.
struct RequestIdSpanMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        var head = request.head
        head.headerFields[.xRequestId] = context.requestId
        return try await next(Request(head: head, body: request.body), context)
    }
}
