import AsyncHTTPClient
import Foundation
import NIOCore

/// The gateway's part of Anthropic's `/v1/messages` relay: an Anthropic client calling an Anthropic
/// model gets its JSON sent up as written and the upstream's bytes back. Admission, the user rule,
/// key choice and usage recording are the chat path's own (`prepare`, `record`, `finishStream`).
extension ChatGateway {
    /// The request headers an Anthropic client sends that must reach Anthropic.
    struct AnthropicHeaders: Sendable {
        var version: String?
        var beta: String?

        /// The version Anthropic requires when the client names none.
        static let defaultVersion = "2023-06-01"
    }

    /// What routing and defaults need from a Messages body; the rest stays bytes.
    struct MessagesFields: Decodable, Sendable {
        var model: String
        var stream: Bool?
        var maxTokens: Int?
        var temperature: Double?
        var metadata: Metadata?

        struct Metadata: Decodable, Sendable {
            var userId: String?
            enum CodingKeys: String, CodingKey { case userId = "user_id" }
        }

        enum CodingKeys: String, CodingKey {
            case model, stream, temperature, metadata
            case maxTokens = "max_tokens"
        }
    }

    /// Resolves the call as chat completions do and builds the upstream body: the client's bytes with
    /// `model` replaced and the registry's defaults appended only where the client left them out.
    func prepareMessagesRelay(_ body: JSONObjectBytes, fields: MessagesFields, principal: Principal, namedUser: String?) throws -> (Call, ByteBuffer)
    {
        var probe = ChatCompletionRequest(model: fields.model, messages: [], stream: fields.stream)
        probe.maxTokens = fields.maxTokens
        probe.temperature = fields.temperature
        probe.user = fields.metadata?.userId
        let call = try prepare(probe, principal: principal, namedUser: namedUser)
        var upstream = body
        upstream.replaceValue(at: ["model"], with: JSONObjectBytes.encodeString(call.target.upstreamModel))
        if !upstream.contains("max_tokens") {
            let limit = call.request.effectiveMaxTokens ?? AnthropicTranslator.defaultMaxTokens
            upstream.append(key: "max_tokens", json: Array("\(limit)".utf8))
        }
        // Anthropic refuses a temperature beside extended thinking, and on newer models beside top_p.
        if !upstream.contains("temperature"), !upstream.contains("top_p"), !upstream.contains("thinking"),
            let temperature = call.request.temperature, let json = try? ProviderJSON.encode(JSONValue.number(temperature))
        {
            upstream.append(key: "temperature", json: json)
        }
        return (call, ByteBuffer(bytes: upstream.bytes))
    }

    /// A non-streamed relay: the upstream's answer with `model` set to the registry name; usage recorded.
    func relayMessages(_ call: Call, body: ByteBuffer, headers: AnthropicHeaders) async throws -> ByteBuffer {
        do {
            let answer = try await upstream.send(
                messagesRequest(call, path: "/v1/messages", body: body, headers: headers), apiKey: call.target.apiKey)
            guard var message = JSONObjectBytes(answer.readableBytesView) else {
                throw ProviderError.invalidResponse("the answer is not a JSON object")
            }
            message.replaceValue(at: ["model"], with: JSONObjectBytes.encodeString(call.model.name))
            let counts = (try? ProviderJSON.decode(UsageEnvelope.self, from: answer))?.usage
            record(call, status: 200, usage: counts?.usage, streamed: false)
            return ByteBuffer(bytes: message.bytes)
        } catch let error as ProviderError {
            record(call, status: error.httpStatus, usage: nil, streamed: false, errorCode: GatewayError.from(error).code)
            throw GatewayError.from(error)
        }
    }

    /// Opens a relayed stream; a refusal before the first byte is thrown (and recorded) here. The caller
    /// relays the body through ``AnthropicRelayEvents`` and ends with ``finishStream(_:usage:error:)``.
    func openMessagesStream(_ call: Call, body: ByteBuffer, headers: AnthropicHeaders) async throws -> HTTPClientResponse.Body {
        do {
            return try await upstream.open(messagesRequest(call, path: "/v1/messages", body: body, headers: headers), apiKey: call.target.apiKey).body
        } catch let error as ProviderError {
            record(call, status: error.httpStatus, usage: nil, streamed: true, errorCode: GatewayError.from(error).code)
            throw GatewayError.from(error)
        }
    }

    /// `count_tokens` relayed to Anthropic; free there, so no usage record.
    func relayCountTokens(_ call: Call, body: ByteBuffer, headers: AnthropicHeaders) async throws -> ByteBuffer {
        do {
            return try await upstream.send(
                messagesRequest(call, path: "/v1/messages/count_tokens", body: body, headers: headers), apiKey: call.target.apiKey)
        } catch let error as ProviderError {
            throw GatewayError.from(error)
        }
    }

    private func messagesRequest(_ call: Call, path: String, body: ByteBuffer, headers: AnthropicHeaders) -> HTTPClientRequest {
        var fields = [("x-api-key", call.target.keyValue), ("anthropic-version", headers.version ?? AnthropicHeaders.defaultVersion)]
        if let beta = headers.beta { fields.append(("anthropic-beta", beta)) }
        return .jsonPost(url: call.target.url(path), headers: fields, body: body)
    }

    private struct UsageEnvelope: Decodable {
        var usage: AnthropicUsageCounts?
    }
}
