/// Base URLs of the providers: the model's `providerSettings.baseURL`, else the environment
/// variable each official SDK reads (`OPENAI_BASE_URL`, ...), else the public endpoint.
public struct UpstreamEndpoints: Sendable {
    private let byProvider: [ProviderKind: String]

    public init(environment: [String: String]) {
        var byProvider: [ProviderKind: String] = [:]
        for provider in ProviderKind.allCases {
            let configured = environment[provider.baseURLEnvVar].flatMap { $0.isEmpty ? nil : $0 }
            byProvider[provider] = configured ?? provider.defaultBaseURL
        }
        self.byProvider = byProvider
    }

    public func baseURL(for model: Model) -> String {
        if let override = model.providerSettings["baseURL"]?.stringValue, !override.isEmpty { return override }
        return byProvider[model.provider] ?? model.provider.defaultBaseURL
    }

    public func baseURL(for provider: ProviderKind) -> String {
        byProvider[provider] ?? provider.defaultBaseURL
    }
}
