import AsyncHTTPClient
import NIOCore

/// Google Vertex AI: Gemini models by `generateContent` / `streamGenerateContent?alt=sse` and Anthropic's Claude by
/// `rawPredict` / `streamRawPredict`, under `/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}`
/// (``VertexLocation``), authorized by an access token of the service account the key holds (``GoogleAccessTokens``).
///
/// The bodies and answers are Gemini's and Anthropic's own, so the existing translators write and read them; only
/// Anthropic's body differs (`anthropic_version: vertex-2023-10-16`, no `model`: the URL names it).
public struct VertexAdapter: ProviderAdapter {
    /// The Messages API version Vertex AI takes in the body, in place of Anthropic's header.
    public static let anthropicVersion = "vertex-2023-10-16"

    public init() {}

    package var capabilities: Set<ProviderCapability> { Self.supported }
    /// Built once: the set is read on every call. `messages` only for Anthropic's models (``relaysAnthropicMessages(model:settings:)``).
    private static let supported: Set<ProviderCapability> = [.chat, .messages]

    package func relaysAnthropicMessages(model: String, settings: [String: JSONValue]) -> Bool {
        (try? VertexPublisher(model: model, setting: settings["publisher"]?.stringValue)) == .anthropic
    }

    public func complete(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatCompletionResponse {
        let call = try await VertexCall(target: target, client: client)
        switch call.location.publisher {
        case .google:
            let body = try ProviderJSON.encodeBuffer(GeminiTranslator.body(for: request))
            let answer = try await client.send(.jsonPost(url: call.url("generateContent"), headers: call.headers, body: body), apiKey: call.token)
            return GeminiTranslator.response(from: try ProviderJSON.decodeUpstream(GeminiResponse.self, from: answer), model: target.upstreamModel)
        case .anthropic:
            let body = try ProviderJSON.encodeBuffer(Self.anthropicBody(for: request, target: target, streaming: false))
            let answer = try await client.send(.jsonPost(url: call.url("rawPredict"), headers: call.headers, body: body), apiKey: call.token)
            return AnthropicTranslator.response(from: try ProviderJSON.decodeUpstream(AnthropicMessage.self, from: answer))
        }
    }

    public func stream(_ request: ChatCompletionRequest, target: UpstreamTarget, client: UpstreamClient) async throws -> ChatChunkStream {
        let call = try await VertexCall(target: target, client: client)
        let model = target.upstreamModel
        switch call.location.publisher {
        case .google:
            let body = try ProviderJSON.encodeBuffer(GeminiTranslator.body(for: request))
            let response = try await client.open(.jsonPost(url: call.url("streamGenerateContent?alt=sse"), headers: call.headers, body: body), apiKey: call.token)
            let decoder = GeminiStreamDecoder(model: model, forwardUsage: request.wantsStreamUsage, apiKey: call.token, maxLineBytes: client.maxLineBytes)
            return ChatChunkStream(body: response.body, decoder: decoder, apiKey: call.token)
        case .anthropic:
            let body = try ProviderJSON.encodeBuffer(Self.anthropicBody(for: request, target: target, streaming: true))
            let response = try await client.open(.jsonPost(url: call.url("streamRawPredict"), headers: call.headers, body: body), apiKey: call.token)
            let decoder = AnthropicStreamDecoder(model: model, forwardUsage: request.wantsStreamUsage, apiKey: call.token, maxLineBytes: client.maxLineBytes)
            return ChatChunkStream(body: response.body, decoder: decoder, apiKey: call.token)
        }
    }

    /// An Anthropic client's JSON for a Claude model, relayed with Vertex's edits; `count_tokens` by Vertex's `count-tokens` model.
    package func messages(_ body: ByteBuffer, path: String, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> ByteBuffer
    {
        let call = try await VertexCall(target: target, client: client, publisher: .anthropic)
        let counting = path.hasSuffix("/count_tokens")
        let url = counting ? call.location.url(model: "count-tokens", method: "rawPredict") : call.url("rawPredict")
        let request = HTTPClientRequest.jsonPost(
            url: url, headers: call.headers + Self.betaHeader(headers), body: try Self.relayedBody(body, target: target, keepModel: counting))
        return try await client.send(request, apiKey: call.token)
    }

    package func openMessages(_ body: ByteBuffer, headers: AnthropicClientHeaders, target: UpstreamTarget, client: UpstreamClient) async throws
        -> RawEventStream
    {
        let call = try await VertexCall(target: target, client: client, publisher: .anthropic)
        let request = HTTPClientRequest.jsonPost(
            url: call.url("streamRawPredict"), headers: call.headers + Self.betaHeader(headers), body: try Self.relayedBody(body, target: target, keepModel: false))
        return RawEventStream(body: try await client.open(request, apiKey: call.token).body, apiKey: call.token)
    }

    /// Valid when the token endpoint issues a token for the account (asked afresh, not from the cache); refused: rejected.
    public func validateKey(target: UpstreamTarget, client: UpstreamClient) async -> KeyValidationResult {
        guard let key = target.apiKey, !key.isEmpty else { return .rejected(reason: "no service account given") }
        let account: GoogleServiceAccount
        do {
            account = try GoogleServiceAccount.parseChecked(key)
        } catch {
            return .rejected(reason: "the service account cannot be used: \(error)")
        }
        do {
            _ = try await client.googleTokens.freshToken(for: account, client: client)
            return .valid
        } catch let error as ProviderError where error.rejectsKey {
            return .rejected(reason: error.message)
        } catch let error as ProviderError {
            if case .upstreamRejected(429, _, _, _, _) = error { return .notChecked(reason: "the token endpoint is rate limiting (429)") }
            return .unreachable(reason: error.message)
        } catch {
            return .unreachable(reason: "the check was cancelled")
        }
    }

    /// Anthropic's Messages body as the translator writes it, with Vertex's version and without `model`.
    package static func anthropicBody(for request: ChatCompletionRequest, target: UpstreamTarget, streaming: Bool) throws -> JSONValue {
        guard case .object(var body) = try AnthropicTranslator.body(for: request, target: target, streaming: streaming) else {
            throw ProviderError.invalidRequest("the request could not be written for Anthropic")
        }
        body["model"] = nil
        body["anthropic_version"] = .string(anthropicVersion)
        return .object(body)
    }

    /// A client's Anthropic JSON: every byte as sent, but `anthropic_version` set and `model` gone (or, to count tokens, the upstream's).
    package static func relayedBody(_ clientJSON: ByteBuffer, target: UpstreamTarget, keepModel: Bool) throws -> ByteBuffer {
        guard var editor = JSONObjectEditor(clientJSON) else { throw ProviderError.invalidRequest("the body must be a JSON object") }
        if keepModel { editor.set("model", target.upstreamModel) } else { editor.remove("model") }
        editor.set("anthropic_version", anthropicVersion)
        return editor.result()
    }

    private static func betaHeader(_ headers: AnthropicClientHeaders) -> [(String, String)] {
        headers.beta.map { [("anthropic-beta", $0)] } ?? []
    }
}

/// What every Vertex call needs before it is sent: the account (read from the key), where to go, and a token.
private struct VertexCall {
    let location: VertexLocation
    let token: Secret
    let model: String

    var headers: [(String, String)] { [("authorization", "Bearer \(token.reveal)")] }

    init(target: UpstreamTarget, client: UpstreamClient, publisher: VertexPublisher? = nil) async throws {
        guard let key = target.apiKey, !key.isEmpty else {
            throw ProviderError.upstreamRejected(status: 401, message: "no service account for Vertex AI", type: "authentication_error", code: nil, retryAfter: nil)
        }
        let account: GoogleServiceAccount
        do {
            account = try GoogleServiceAccount.parse(key)
        } catch {
            // A stored account that cannot be read is this key's fault: refused like a key the provider rejected.
            throw ProviderError.upstreamRejected(
                status: 401, message: "the Vertex AI service account cannot be used: \(error)", type: "authentication_error", code: "invalid_credentials",
                retryAfter: nil)
        }
        location = try VertexLocation(target: target, account: account)
        if let publisher, publisher != location.publisher {
            throw ProviderCapability.messages.refusal(provider: .vertex, model: target.upstreamModel)
        }
        token = try await client.googleTokens.token(for: account, client: client)
        model = target.upstreamModel
    }

    func url(_ method: String) -> String { location.url(model: model, method: method) }
}
