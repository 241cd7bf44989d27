import Foundation
import AsyncHTTPClient

/// Azure OpenAI: OpenAI's body and stream, addressed by deployment and `api-version`, keyed by `api-key`.
public struct AzureOpenAIAdapter: ProviderAdapter {
    /// The API version used when the model's settings name none.
    public static let defaultAPIVersion = "2024-10-21"

    private let openAI = OpenAIAdapter()

    public init() {}

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        try await openAI.complete(request, url: url(for: target), headers: headers(for: target), target: target, client: client)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        try await openAI.stream(request, url: url(for: target), headers: headers(for: target), target: target, client: client)
    }

    /// Azure keys can only be checked against a deployment, which costs a completion: check the format only.
    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        let key = target.apiKey?.reveal ?? ""
        let wellFormed = key.count >= 32 && key.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        guard wellFormed else { return .rejected(reason: "an Azure OpenAI key is 32 or more letters and digits") }
        return .notChecked(reason: "Azure OpenAI keys are checked for format only")
    }

    package func url(for target: UpstreamTarget) -> String {
        url(for: target, operation: "chat/completions")
    }

    /// `/openai/deployments/{deployment}/{operation}?api-version=…`.
    package func url(for target: UpstreamTarget, operation: String) -> String {
        let version = target.settings["apiVersion"]?.stringValue ?? Self.defaultAPIVersion
        let deployment = target.upstreamModel.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? target.upstreamModel
        let query = version.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? version
        return target.url("/openai/deployments/\(deployment)/\(operation)?api-version=\(query)")
    }

    package func headers(for target: UpstreamTarget) -> [(String, String)] {
        [("api-key", target.keyValue)]
    }
}
