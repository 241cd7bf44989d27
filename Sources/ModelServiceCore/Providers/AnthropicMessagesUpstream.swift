import AsyncHTTPClient
import Foundation
import NIOCore

/// Anthropic's Messages API relayed for an Anthropic client: the client's JSON goes up with `model`
/// replaced and the registry's defaults added only where absent; the answer comes back as the
/// upstream's bytes with `model` set to the registry name.
package enum AnthropicMessagesUpstream {
    /// The request headers an Anthropic client sends that must reach Anthropic.
    package struct ClientHeaders: Sendable {
        package var version: String?
        package var beta: String?

        /// The version Anthropic requires when the client names none.
        package static let defaultVersion = AnthropicAdapter.apiVersion

        package init(version: String? = nil, beta: String? = nil) {
            self.version = version
            self.beta = beta
        }
    }

    /// The upstream body: `model` replaced; `max_tokens` (which Anthropic requires) and the model's
    /// default temperature appended only when the client left them out.
    package static func body(clientJSON: ByteBuffer, target: UpstreamTarget, model: Model) throws -> ByteBuffer {
        guard var editor = JSONObjectEditor(clientJSON) else { throw ProviderError.invalidRequest("the body must be a JSON object") }
        editor.set("model", target.upstreamModel)
        if !editor.contains("max_tokens") {
            editor.set("max_tokens", ChatDefaults.defaultMaxTokens(for: model) ?? AnthropicTranslator.defaultMaxTokens)
        }
        // Anthropic refuses a temperature beside extended thinking, and on newer models beside top_p.
        if !editor.contains("temperature"), !editor.contains("top_p"), !editor.contains("thinking"),
            model.providerSettings["sendDefaultTemperature"]?.boolValue != false, let temperature = model.defaultTemperature
        {
            editor.set("temperature", temperature)
        }
        return editor.result()
    }

    /// A non-streamed call (`/v1/messages` or `/v1/messages/count_tokens`): the upstream's JSON.
    package static func send(path: String, body: ByteBuffer, headers: ClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> ByteBuffer
    {
        try await client.send(request(path: path, body: body, headers: headers, target: target), apiKey: target.apiKey)
    }

    /// A streamed call, opened: the SSE body is read by the caller (``AnthropicRelayEvents``).
    package static func open(body: ByteBuffer, headers: ClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws -> HTTPClientResponse {
        try await client.open(request(path: "/v1/messages", body: body, headers: headers, target: target), apiKey: target.apiKey)
    }

    package static func request(path: String, body: ByteBuffer, headers: ClientHeaders, target: UpstreamTarget) -> HTTPClientRequest {
        var fields = [("x-api-key", target.keyValue), ("anthropic-version", headers.version ?? ClientHeaders.defaultVersion)]
        if let beta = headers.beta { fields.append(("anthropic-beta", beta)) }
        return .jsonPost(url: target.url(path), headers: fields, body: body)
    }

    /// The answer with `model` set to the registry name, and its usage (cache reads and writes included).
    package static func patchAnswer(_ answer: ByteBuffer, model name: String) throws -> (json: ByteBuffer, usage: Usage?) {
        guard var editor = JSONObjectEditor(answer) else { throw ProviderError.invalidResponse("the answer is not a JSON object") }
        if editor.contains("model") { editor.set("model", name) }
        let usage = editor.value("usage", as: AnthropicUsageCounts.self)?.usage
        return (editor.result(), usage)
    }
}
