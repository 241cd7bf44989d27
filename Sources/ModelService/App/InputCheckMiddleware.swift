import Foundation
import Hummingbird
import ModelServiceCore

/// Checks the decoded path and every query parameter of `/api/*` with ``TextInput`` before routing,
/// so no handler (present or future) sees a NUL or an oversized filter.
///
/// A 400 names the parameter (or `path`); body fields are checked where they are decoded.
public struct InputCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Longest decoded path: ids and names are at most a few hundred bytes.
    public static var maxPathBytes: Int { 2_048 }

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // Most paths have nothing to decode; Foundation's decoder costs ~17k instructions even then.
        let decoded = path.utf8.contains(UInt8(ascii: "%")) ? path.removingPercentEncoding ?? path : path
        try TextInput.check(decoded, field: "path", maxCharacters: Self.maxPathBytes, maxBytes: Self.maxPathBytes)
        for (name, value) in request.uri.queryParameters {
            let field = String(name).removingPercentEncoding ?? String(name)
            try TextInput.check(field, field: "query parameter name", maxCharacters: 100)
            try TextInput.check(String(value), field: field, maxCharacters: TextInput.queryCharacters)
        }
        return try await next(request, context)
    }
}
