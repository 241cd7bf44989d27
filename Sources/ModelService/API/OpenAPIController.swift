import Foundation
import Hummingbird
import NIOCore
import ModelServiceCore

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route, a package resource loaded once.
///
/// Written by hand as JSON; `OpenAPIDocumentTests` fails when it and the router disagree.
struct OpenAPIController {
    /// The document's bytes; a missing resource is a packaging bug, caught by the tests.
    static let document: ByteBuffer = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return ByteBuffer(string: #"{"error":{"code":"internal_error","message":"openapi.json is missing from the build","type":"server_error"}}"#)
        }
        return ByteBuffer(bytes: data)
    }()

    func register(on router: Router<AppRequestContext>) {
        router.get("/openapi.json", use: serve)
    }

    @Sendable func serve(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: Self.document))
    }
}
