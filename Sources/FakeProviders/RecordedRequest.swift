import Foundation

/// One request as the fake server received it; headers are keyed by lower-cased name, repeated ones joined with ", ".
public struct RecordedRequest: Sendable {
    /// URL prefix the request arrived under (`openai`, `xai`, `deepseek`, `azure`, `anthropic`, `gemini`, `ollama`).
    public let provider: String
    public let method: String
    public let path: String
    /// The raw query string without `?`, empty when there was none.
    public let query: String
    public let headers: [String: String]
    public let body: Data

    public init(provider: String, method: String, path: String, query: String, headers: [String: String], body: Data) {
        self.provider = provider
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The body parsed as JSON, `nil` when empty or not JSON.
    public var bodyJSON: Any? {
        body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
    }

    /// The body parsed as a JSON object, the usual shape of a chat request.
    public var bodyObject: [String: Any]? { bodyJSON as? [String: Any] }

    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}
