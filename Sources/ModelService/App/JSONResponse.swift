import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// A JSON body with a status, for any `Encodable` (arrays included).
public struct JSONResponse<Value: Encodable>: ResponseGenerator {
    public var status: HTTPResponse.Status
    public var value: Value

    public init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    /// The encoder of every API body: sorted keys, so the same value is always the same bytes.
    static func encoder() -> JSONEncoder { ProviderJSON.sortedEncoder() }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try Self.encoder().encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

extension Request {
    /// A query parameter parsed as a boolean; a value other than true/false is a 400 naming it.
    func boolQuery(_ name: String) throws(ServiceError) -> Bool? {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        switch raw.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .invalidField(name, "must be true or false")
        }
    }
}
