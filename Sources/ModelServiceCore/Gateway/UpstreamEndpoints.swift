/// Base URLs of the providers: the model's `providerSettings.baseURL`, else the environment
/// variable each official SDK reads (`OPENAI_BASE_URL`, ...), else the public endpoint. Bedrock's public
/// endpoint depends on the region: the model's `providerSettings.region`, else `AWS_REGION`, else us-east-1
/// (`BEDROCK_BASE_URL` stands for every region's).
public struct UpstreamEndpoints: Sendable {
    private let byProvider: [ProviderKind: String]
    /// The region of Bedrock models that name none: `AWS_REGION` when it is a region name, else us-east-1.
    public let bedrockRegion: String
    private let bedrockOverride: String?

    public init(environment: [String: String]) {
        let region = environment["AWS_REGION"].flatMap { BedrockRegion.isValid($0) ? $0 : nil }
        bedrockRegion = region ?? BedrockRegion.fallback
        bedrockOverride = environment[ProviderKind.bedrock.baseURLEnvVar].flatMap { $0.isEmpty ? nil : $0 }
        var byProvider: [ProviderKind: String] = [:]
        for provider in ProviderKind.allCases {
            let configured = environment[provider.baseURLEnvVar].flatMap { $0.isEmpty ? nil : $0 }
            byProvider[provider] = configured ?? provider.defaultBaseURL
        }
        byProvider[.bedrock] = bedrockOverride ?? BedrockRegion.runtimeURL(bedrockRegion)
        self.byProvider = byProvider
    }

    public func baseURL(for model: Model) -> String {
        if let override = model.providerSettings["baseURL"]?.stringValue, !override.isEmpty { return override }
        if model.provider == .bedrock { return bedrockBaseURL(region: region(for: model)) }
        return byProvider[model.provider] ?? model.provider.defaultBaseURL
    }

    public func baseURL(for provider: ProviderKind) -> String {
        byProvider[provider] ?? provider.defaultBaseURL
    }

    /// Bedrock's runtime endpoint for `region` (what a key stored for that region is bound to), or `BEDROCK_BASE_URL`.
    public func bedrockBaseURL(region: String) -> String {
        bedrockOverride ?? BedrockRegion.runtimeURL(BedrockRegion.isValid(region) ? region : bedrockRegion)
    }

    /// A Bedrock model's region: its `providerSettings.region` (checked when the model is saved), else the default.
    public func region(for model: Model) -> String {
        if let region = model.providerSettings["region"]?.stringValue, BedrockRegion.isValid(region) { return region }
        return bedrockRegion
    }

    /// The settings an adapter reads for `model`: its `providerSettings`, with a Bedrock model's region filled in
    /// (the adapter signs for it and reads no environment).
    public func settings(for model: Model) -> [String: JSONValue] {
        guard model.provider == .bedrock else { return model.providerSettings }
        var settings = model.providerSettings
        settings["region"] = .string(region(for: model))
        return settings
    }
}
