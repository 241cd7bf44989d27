import NIOCore

/// Where and as whom one call goes: resolved by the gateway per request, so adapters hold no credentials.
public struct UpstreamTarget: Sendable {
    public var provider: ProviderKind
    /// The registry's modelId; for Azure, the deployment name.
    public var upstreamModel: String
    /// Already resolved by the caller (env var or `providerSettings.baseURL`); a trailing slash is fine.
    public var baseURL: String
    /// Nil for Ollama, which needs no key.
    public var apiKey: Secret?
    /// The model's `providerSettings`, e.g. `apiVersion` for Azure.
    public var settings: [String: JSONValue]

    public init(
        provider: ProviderKind,
        upstreamModel: String,
        baseURL: String,
        apiKey: Secret?,
        settings: [String: JSONValue] = [:]
    ) {
        self.provider = provider
        self.upstreamModel = upstreamModel
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.settings = settings
    }

    /// A client's own JSON for this upstream: every byte as sent, `model` replaced by the upstream's id.
    package func relayedBody(_ clientJSON: ByteBuffer) throws -> ByteBuffer {
        guard var editor = JSONObjectEditor(clientJSON) else { throw ProviderError.invalidRequest("the body must be a JSON object") }
        editor.set("model", upstreamModel)
        return editor.result()
    }

    /// `baseURL` joined with `path` (which starts with `/`), however many slashes the base ends with.
    package func url(_ path: String) -> String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + path
    }
}
