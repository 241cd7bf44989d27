import AsyncHTTPClient
import Foundation
import NIOCore

/// Azure OpenAI: OpenAI's bodies and streams, addressed by deployment (the model's `modelId`) and an
/// `api-version` (`providerSettings.apiVersion`, or `responsesApiVersion` for the Responses API), keyed by `api-key`.
public struct AzureOpenAIAdapter: ProviderAdapter {
    /// The API version used when the model's settings name none.
    public static let defaultAPIVersion = "2024-10-21"
    /// The Responses API's version when the model's settings name none.
    public static let defaultResponsesAPIVersion = "2025-04-01-preview"

    private let openAI = OpenAIAdapter()

    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat, .embeddings, .responses]
    package var relaysOpenAIChat: Bool { true }

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        try await openAI.complete(request, url: url(for: target, operation: "chat/completions"), headers: headers(for: target), target: target, client: client)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        try await openAI.stream(request, url: url(for: target, operation: "chat/completions"), headers: headers(for: target), target: target, client: client)
    }

    package func embed(_ request: EmbeddingRequest, clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws
        -> EmbeddingsAnswer
    {
        try await openAI.relayEmbeddings(clientJSON, url: url(for: target, operation: "embeddings"), headers: headers(for: target), target: target, client: client)
    }

    package func responses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> ByteBuffer {
        try await client.send(try OpenAIAdapter.relayed(body, url: responsesURL(for: target), headers: headers(for: target), target: target), apiKey: target.apiKey)
    }

    package func openResponses(_ body: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> RawEventStream {
        let request = try OpenAIAdapter.relayed(body, url: responsesURL(for: target), headers: headers(for: target), target: target)
        return RawEventStream(body: try await client.open(request, apiKey: target.apiKey).body, apiKey: target.apiKey)
    }

    /// Azure keys can only be checked against a deployment, which costs a completion: check the format only.
    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        let key = target.apiKey?.reveal ?? ""
        let wellFormed = key.count >= 32 && key.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        guard wellFormed else { return .rejected(reason: "an Azure OpenAI key is 32 or more letters and digits") }
        return .notChecked(reason: "Azure OpenAI keys are checked for format only")
    }

    /// `/openai/deployments/{deployment}/{operation}?api-version=…`.
    package func url(for target: UpstreamTarget, operation: String) -> String {
        let version = target.settings["apiVersion"]?.stringValue ?? Self.defaultAPIVersion
        let deployment = target.upstreamModel.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? target.upstreamModel
        return target.url("/openai/deployments/\(deployment)/\(operation)?api-version=\(Self.query(version))")
    }

    /// `/openai/responses?api-version=…`: the Responses API names the deployment in the body's `model`.
    package func responsesURL(for target: UpstreamTarget) -> String {
        let version = target.settings["responsesApiVersion"]?.stringValue ?? Self.defaultResponsesAPIVersion
        return target.url("/openai/responses?api-version=\(Self.query(version))")
    }

    package func headers(for target: UpstreamTarget) -> [(String, String)] {
        [("api-key", target.keyValue)]
    }

    private static func query(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? value
    }
}
