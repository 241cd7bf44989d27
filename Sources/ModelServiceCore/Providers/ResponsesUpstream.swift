import AsyncHTTPClient
import Foundation
import NIOCore

/// OpenAI's Responses API (`POST /responses`) on OpenAI and Azure: the client's JSON relayed with
/// only `model` changed; the answer and its SSE events come back as the upstream sent them.
public enum ResponsesUpstream {
    /// Azure's Responses API version when the model's settings name none (`responsesApiVersion`).
    public static let defaultAzureAPIVersion = "2025-04-01-preview"

    public static func supports(_ provider: ProviderKind) -> Bool {
        provider == .openai || provider == .azure
    }

    /// A non-streamed call: the upstream's JSON.
    public static func send(clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> ByteBuffer {
        try await client.send(try request(clientJSON: clientJSON, target: target), apiKey: target.apiKey)
    }

    /// A streamed call, opened: the SSE body is read by the caller.
    public static func open(clientJSON: ByteBuffer, target: UpstreamTarget, client: UpstreamClient) async throws -> HTTPClientResponse {
        try await client.open(try request(clientJSON: clientJSON, target: target), apiKey: target.apiKey)
    }

    package static func request(clientJSON: ByteBuffer, target: UpstreamTarget) throws -> HTTPClientRequest {
        guard var editor = JSONObjectEditor(clientJSON) else { throw ProviderError.invalidRequest("the body must be a JSON object") }
        editor.set("model", target.upstreamModel)
        let url: String
        let headers: [(String, String)]
        switch target.provider {
        case .azure:
            let version = target.settings["responsesApiVersion"]?.stringValue ?? defaultAzureAPIVersion
            url = target.url("/openai/responses?api-version=\(version.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? version)")
            headers = AzureOpenAIAdapter().headers(for: target)
        default:
            url = target.url("/responses")
            headers = OpenAIAdapter().headers(for: target)
        }
        return .jsonPost(url: url, headers: headers, body: editor.result())
    }

    /// The token counts of a response object (`usage.input_tokens`, `usage.output_tokens`).
    package static func usage(ofResponse json: Data) -> Usage? {
        guard let counts = (try? JSONDecoder().decode(ResponsesUsageEnvelope.self, from: json))?.usage else { return nil }
        return Usage(promptTokens: counts.inputTokens.count, completionTokens: counts.outputTokens.count)
    }

    /// Sets `model` in a response object, or in the `response` object an SSE event carries.
    public static func patchModel(_ json: ByteBuffer, model name: String) -> (json: ByteBuffer, usage: Usage?) {
        guard var editor = JSONObjectEditor(json) else { return (json, nil) }
        if editor.contains("model") {
            editor.set("model", name)
            return (editor.result(), Self.usage(ofResponse: Data(json.readableBytesView)))
        }
        guard let raw = editor.rawValue("response"), var inner = JSONObjectEditor(Array(raw)) else { return (json, nil) }
        let usage = Self.usage(ofResponse: Data(raw))
        if inner.contains("model") {
            inner.set("model", name)
            editor.set("response", json: inner.result().readableBytesView)
        }
        return (editor.result(), usage)
    }
}

/// The `usage` of a Responses API response object.
private struct ResponsesUsageEnvelope: Decodable {
    package struct Counts: Decodable {
        package var inputTokens: UpstreamCount?
        package var outputTokens: UpstreamCount?
        package enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
        }
    }
    package var usage: Counts?
}
