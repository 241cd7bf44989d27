import ServiceLifecycle

/// A started fake server: where to point the gateway, what it received, and how to stop it.
public struct RunningFakeProviders: Sendable {
    public let host: String
    public let port: Int
    /// Base URL per environment variable (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`, ..., `AZURE_OPENAI_ENDPOINT`).
    public let baseURLs: [String: String]
    /// Requests received; stays empty when started with `record: false`.
    public let recorder: FakeRequestRecorder
    /// Vertex AI's token endpoint: which accounts it trusts, how long its tokens last, how many it was asked for.
    public let vertex: FakeVertexAuthority
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    init(host: String, port: Int, recorder: FakeRequestRecorder, vertex: FakeVertexAuthority, group: ServiceGroup, task: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.baseURLs = Self.baseURLs(host: host, port: port)
        self.recorder = recorder
        self.vertex = vertex
        self.group = group
        self.task = task
    }

    /// The base URL of one provider, as its SDK would be configured.
    public func baseURL(_ provider: FakeProvider) -> String {
        Self.baseURL(provider, host: host, port: port)
    }

    /// The fake Vertex AI token endpoint, as a key file's `token_uri`.
    public var vertexTokenURI: String { "http://\(host):\(port)/vertex/token" }

    /// The key file of `account` (default: the account every fake trusts) pointing at this server's token endpoint.
    public func vertexServiceAccountJSON(_ account: FakeServiceAccount? = FakeServiceAccount.standard) -> String {
        account?.json(tokenURI: vertexTokenURI) ?? "{}"
    }

    /// Stops accepting connections, lets in-flight requests finish, and returns once the server is down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    static func baseURLs(host: String, port: Int) -> [String: String] {
        var urls: [String: String] = [:]
        for provider in FakeProvider.allCases {
            urls[provider.baseURLVariable] = baseURL(provider, host: host, port: port)
        }
        return urls
    }

    static func baseURL(_ provider: FakeProvider, host: String, port: Int) -> String {
        "http://\(host):\(port)\(provider.basePath)"
    }
}
