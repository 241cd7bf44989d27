import Hummingbird

/// What differs between wire formats; `FakeChatPipeline` does the shared work (recording, auth, behaviour, streaming).
protocol FakeDialect: Sendable {
    var provider: FakeProvider { get }
    /// Ollama needs no key; every cloud provider answers 401 without one.
    var requiresKey: Bool { get }
    /// The key from this provider's auth header (or query), `nil` when absent.
    func apiKey(in request: Request) -> String?
    /// Checks made before authentication (Azure's `api-version`, Anthropic's `anthropic-version`).
    func precheck(_ request: Request) throws(FakeFailure)
    /// A check of the whole request before the key rules (Bedrock's SigV4 signature, which covers the body):
    /// the provider's own refusal, or nil to go on.
    func authenticate(_ request: Request, body: ByteBuffer) -> Response?
    /// Reads the chat request; throws `.badRequest` naming the missing field.
    func parseChat(_ json: [String: Any], request: Request, context: FakeRequestContext) throws(FakeFailure) -> FakeChat
    func errorResponse(_ failure: FakeFailure) -> Response
    func completeResponse(chat: FakeChat, reply: FakeReply) -> Response
    /// Every chunk of the stream, encoded up front so writing them is all that remains.
    func streamChunks(chat: FakeChat, reply: FakeReply, request: Request) -> [ByteBuffer]
    func streamContentType(request: Request) -> String
}

extension FakeDialect {
    var requiresKey: Bool { true }
    func precheck(_ request: Request) throws(FakeFailure) {}
    func authenticate(_ request: Request, body: ByteBuffer) -> Response? { nil }
    func streamContentType(request: Request) -> String { "text/event-stream" }
}

extension Request {
    /// The token of an `Authorization: Bearer <token>` header.
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let prefix = "Bearer "
        guard value.count > prefix.count, value.lowercased().hasPrefix("bearer ") else { return nil }
        return String(value.dropFirst(prefix.count))
    }

    /// The value of a header given by its lower-case name.
    func header(_ name: String) -> String? {
        headers.first { $0.name.canonicalName == name }?.value
    }
}
