import AsyncHTTPClient
import Foundation
import NIOCore

/// Amazon Bedrock's Converse API: `POST {base}/model/{modelId}/converse` and `/converse-stream` (an AWS event
/// stream), the key checked with ListFoundationModels (`GET /foundation-models`, not billed).
///
/// The credential comes with each call (``BedrockCredential``): a key pair signs every request with SigV4
/// (service `bedrock`, the model's region), a Bedrock API key goes as a bearer token. The region is the target's
/// `region` setting (filled in by ``UpstreamEndpoints``), else the one its AWS host names, else us-east-1.
public struct BedrockAdapter: ProviderAdapter {
    /// SigV4's service name, for the runtime and the control plane alike.
    package static let signingService = "bedrock"
    package static let eventStreamType = "application/vnd.amazon.eventstream"

    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call.
    private static let supported: Set<ProviderCapability> = [.chat]

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        let body = Array(try ProviderJSON.encode(BedrockTranslator.body(for: request)))
        let http = try Self.request(url: Self.url(for: target, action: "converse"), body: body, accept: "application/json", target: target)
        let answer = try await client.send(http, apiKey: target.apiKey)
        let decoded = try ProviderJSON.decodeUpstream(BedrockResponse.self, from: answer)
        return BedrockTranslator.response(from: decoded, model: target.upstreamModel)
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        let body = Array(try ProviderJSON.encode(BedrockTranslator.body(for: request)))
        let http = try Self.request(url: Self.url(for: target, action: "converse-stream"), body: body, accept: Self.eventStreamType, target: target)
        let response = try await client.open(http, apiKey: target.apiKey)
        // A frame is a stream's unit as a line is for SSE: bounded by the same setting, and by 1 MiB (Bedrock's are a few KiB).
        let decoder = BedrockStreamDecoder(
            model: target.upstreamModel, forwardUsage: request.wantsStreamUsage, apiKey: target.apiKey, maximumFrameBytes: min(client.maxLineBytes, 1 << 20))
        return ChatChunkStream(body: response.body, decoder: decoder, apiKey: target.apiKey)
    }

    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        let base = BedrockRegion.controlPlaneURL(forBaseURL: target.baseURL)
        var control = target
        control.baseURL = base
        let url = control.url("/foundation-models")
        let headers: [(String, String)]
        do {
            headers = try Self.authorization(method: "GET", url: url, contentType: nil, body: [], target: target)
        } catch {
            return .rejected(reason: error.message)
        }
        return await validateByGet(url: url, headers: headers, apiKey: target.apiKey, client: client)
    }

    /// `{base}/model/{modelId}/{action}`, the model id percent-encoded as one path segment (`:` as `%3A`, `/` of an
    /// ARN as `%2F`), as the AWS SDKs send it; the signer signs exactly this wire path.
    package static func url(for target: UpstreamTarget, action: String) -> String {
        target.url("/model/\(escapedModelId(target.upstreamModel))/\(action)")
    }

    /// Everything but RFC 3986's unreserved characters percent-encoded.
    package static func escapedModelId(_ modelId: String) -> String {
        modelId.addingPercentEncoding(withAllowedCharacters: unreserved) ?? modelId
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The signing region of a call: the target's `region` setting, else the region its AWS host names, else us-east-1.
    package static func region(for target: UpstreamTarget) -> String {
        if let region = target.settings["region"]?.stringValue, BedrockRegion.isValid(region) { return region }
        return BedrockRegion.region(inBaseURL: target.baseURL) ?? BedrockRegion.fallback
    }

    /// A JSON POST carrying the credential: signed over its host, content type and body, or with the bearer key.
    private static func request(url: String, body: [UInt8], accept: String, target: UpstreamTarget) throws(ProviderError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: accept)
        for (name, value) in try authorization(method: "POST", url: url, contentType: "application/json", body: body, target: target) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// The headers that authenticate one request. With no credential none are added (Bedrock then answers 403).
    package static func authorization(
        method: String, url: String, contentType: String?, body: [UInt8], target: UpstreamTarget, date: Date = Date()
    ) throws(ProviderError) -> [(String, String)] {
        switch BedrockCredential(target.apiKey) {
        case nil:
            return []
        case .apiKey(let token):
            return [("authorization", "Bearer \(token)")]
        case .keyPair(let credentials):
            guard let parsed = URL(string: url) else { throw .invalidRequest("the Bedrock URL \(url) cannot be parsed") }
            let signer = AWSSigV4Signer(credentials: credentials, region: region(for: target), service: signingService)
            do {
                let signed = try signer.signatureHeaders(
                    method: method, url: parsed, headers: contentType.map { [("content-type", $0)] } ?? [], payload: .bytes(body), date: date)
                return signed.map { ($0.name, $0.value) }
            } catch {
                // The signer's errors name the problem (date, host, hash), never key material.
                throw .invalidRequest("the Bedrock request cannot be signed: \(error.description)")
            }
        }
    }
}
