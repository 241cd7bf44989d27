import Foundation
import Hummingbird
import Logging
import NIOCore
import ModelServiceCore

/// Turns every error into the JSON error shape of its routes (OpenAI's, or Anthropic's on `/v1/messages`),
/// so no client ever gets an empty or HTML body.
///
/// A ``ServiceError`` is rendered from the one table; Hummingbird's own errors (unknown route, body too
/// large) become the kinds they are; a database outage is a 503; anything else is a 500 whose log line
/// carries the request id but no request data.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let shape: WireError.Shape

    public init(shape: WireError.Shape = .openAI) {
        self.shape = shape
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ErrorResponse {
            // Already in its routes' shape (an inner group's middleware rendered it).
            throw error
        } catch {
            throw ErrorResponse(Self.serviceError(error, logger: context.logger, requestId: context.id), shape: shape)
        }
    }

    /// Any error as the service's own: the kind it is, logged when it is the service's fault.
    static func serviceError(_ error: any Error, logger: Logger, requestId: String) -> ServiceError {
        switch error {
        case let error as ServiceError:
            return error
        case let error as HTTPError:
            // The router's and the body reader's own refusals.
            let kind: ServiceError.Kind =
                switch error.status.code {
                case 404: .notFound
                case 405: .methodNotAllowed
                case 413: .payloadTooLarge
                case 500...: .internalError
                default: .badRequest
                }
            return ServiceError(kind, error.body ?? error.status.reasonPhrase)
        case let error where error is StorageError || Database.isUnavailable(error):
            // A pool connection lost mid-query or SQLite busy past its timeout: the same outage answer.
            logger.error("database error", metadata: ["error": "\(Database.describe(error))"])
            return ServiceError(.databaseUnavailable, "The database is not reachable right now.")
        default:
            logger.error("unhandled error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            return ServiceError(.internalError, "Internal error (request id \(requestId)).")
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
            throw ServiceError.bodyTooLarge(limit: context.maxUploadSize)
        }
        guard buffer.readableBytes > 0 else { throw ServiceError(.invalidJSON, "The request body must be a JSON object.") }
        // Foundation's decoder slows down sharply with depth: refuse deep bodies before it sees them.
        try JSONBody.checkNesting(buffer)
        return buffer
    }

    /// Decodes a JSON body; a malformed body or a field of the wrong type is a 400 that names the field.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        let buffer = try await collectJSONBody(context: context)
        return try JSONBody.decode(type, from: Data(buffer.readableBytesView))
    }
}

