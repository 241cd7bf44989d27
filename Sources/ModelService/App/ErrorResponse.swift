import HTTPTypes
import Hummingbird
import NIOCore
import ModelServiceCore

/// A ``ServiceError`` on its way out as an HTTP answer in one wire shape: the status, code and type all
/// come from the one table (``ServiceError/Kind/rule``); this only writes them as HTTP.
public struct ErrorResponse: HTTPResponseError, CustomStringConvertible {
    public let error: ServiceError
    public let shape: WireError.Shape

    public init(_ error: ServiceError, shape: WireError.Shape = .openAI) {
        self.error = error
        self.shape = shape
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: error.status) }

    public var headers: HTTPFields {
        var fields = HTTPFields()
        if let retryAfter = error.retryAfter { fields[.retryAfter] = retryAfter }
        if let challenge = error.challenge { fields[.wwwAuthenticate] = challenge }
        // Anthropic's SDKs read the reason from the body's type; the code stays visible for operators and logs.
        if shape == .anthropic { fields[.xModelServiceErrorCode] = error.code }
        return fields
    }

    public var description: String { "\(error.status) \(error.code): \(error.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = shape == .openAI ? "application/json; charset=utf-8" : "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: WireError.json(error, shape: shape)))
    }
}

extension HTTPField.Name {
    static let xModelServiceErrorCode = Self("x-model-service-error-code")!
}
