import Foundation

/// Checks a key against its provider before it is stored, at the same base URL the gateway calls.
///
/// Tests point `OPENAI_BASE_URL` and friends at fake providers on loopback; production uses the
/// official endpoints. The adapter never throws; every reason is scrubbed of the key.
public struct KeyValidator: Sendable {
    package let endpoints: UpstreamEndpoints
    package let upstream: UpstreamClient

    public init(endpoints: UpstreamEndpoints, upstream: UpstreamClient) {
        self.endpoints = endpoints
        self.upstream = upstream
    }

    /// Checks `key` at `endpoint` (the one it is stored for), else at the provider's configured base URL:
    /// a key is never sent anywhere but where it belongs. `region` is the AWS region a Bedrock key is stored for.
    public func validate(_ key: Secret, provider: ProviderKind, endpoint: String? = nil, region: String? = nil) async -> KeyValidationResult {
        let baseURL = endpoint ?? endpoints.baseURL(for: provider)
        var settings: [String: JSONValue] = [:]
        if provider == .bedrock {
            let named = region.flatMap { BedrockRegion.isValid($0) ? $0 : nil } ?? BedrockRegion.region(inBaseURL: baseURL)
            settings["region"] = .string(named ?? endpoints.bedrockRegion)
        }
        let target = UpstreamTarget(provider: provider, upstreamModel: "", baseURL: baseURL, apiKey: key, settings: settings)
        switch await ProviderAdapters.adapter(for: provider).validateKey(target: target, client: upstream) {
        case .valid: return .valid
        case .rejected(let reason): return .rejected(reason: ProviderError.scrub(reason, apiKey: key))
        case .unreachable(let reason): return .unreachable(reason: ProviderError.scrub(reason, apiKey: key))
        case .notChecked(let reason): return .notChecked(reason: ProviderError.scrub(reason, apiKey: key))
        }
    }
}

extension KeyValidationResult {
    /// What `is_valid` becomes: true, false, or unknown.
    package var isValid: Bool? {
        switch self {
        case .valid: true
        case .rejected: false
        case .unreachable, .notChecked: nil
        }
    }

    package var label: String {
        switch self {
        case .valid: "valid"
        case .rejected: "rejected"
        case .unreachable: "unreachable"
        case .notChecked: "not_checked"
        }
    }

    package var reason: String? {
        switch self {
        case .valid: nil
        case .rejected(let reason), .unreachable(let reason), .notChecked(let reason): reason
        }
    }
}
