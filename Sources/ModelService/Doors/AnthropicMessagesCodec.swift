import Foundation
import ModelServiceCore
import NIOCore

/// The codec of `/v1/messages`: Anthropic's Messages format both ways, for every model of the registry.
///
/// A candidate whose provider has a Messages API gets the client's JSON relayed (the registry's defaults
/// added only where absent) and its answer and events come back as sent, `model` set to the registry
/// name; any other gets the request translated to canonical chat, read in full once, when the call is
/// prepared, and its answer translated back.
struct AnthropicMessagesCodec: ClientFormat {
    let body: ByteBuffer
    let headers: AnthropicClientHeaders
    /// The request translated to canonical chat, once some candidate needs it (``prepared(for:)``).
    let canonical: ChatCompletionRequest?

    var capability: ProviderCapability { .chat }

    /// True when `model`'s provider takes Anthropic's own format.
    static func relays(to model: Model) -> Bool {
        ProviderAdapters.adapter(for: model.provider).relaysAnthropicMessages(model: model.modelId, settings: model.providerSettings)
    }

    func prepared(for candidates: [Model]) throws(ServiceError) -> any ClientFormat {
        guard canonical == nil, !candidates.allSatisfy(Self.relays) else { return self }
        return AnthropicMessagesCodec(body: body, headers: headers, canonical: try Self.canonical(body))
    }

    func upstreamCall(for candidate: Model) throws(ServiceError) -> UpstreamCall {
        if Self.relays(to: candidate) {
            guard var editor = JSONObjectEditor(body) else { throw ServiceError(.invalidRequest, "The request body must be a JSON object.") }
            ChatDefaults.apply(toAnthropicJSON: &editor, model: candidate)
            return .messages(editor.result(), headers: headers)
        }
        guard let canonical else { throw ServiceError(.invalidRequest, "The request body is not a valid Anthropic Messages request.") }
        return .chat(ChatDefaults.apply(to: canonical, model: candidate))
    }

    func encode(_ answer: UpstreamAnswer, model: Model, call: Call) throws -> (body: ByteBuffer, usage: Usage?) {
        switch answer {
        case .relayed(let json):
            return try Self.relayedAnswer(json, model: model.name)
        case .chat(let response):
            let message = AnthropicResponseTranslator.message(from: response, model: model.name)
            return (try ProviderJSON.encodeBuffer(message), response.usage)
        case .embeddings:
            throw ProviderError.invalidResponse("not a message")
        }
    }

    func streamEncoder(model: Model) -> (any StreamEncoder)? {
        AnthropicStreamEncoder(model: model.name, relayed: Self.relays(to: model))
    }

    /// An Anthropic answer relayed: `model` set to the registry name, every other byte as sent; its usage
    /// (Anthropic bills cache reads and writes as input: they count in the prompt's tokens).
    static func relayedAnswer(_ json: ByteBuffer, model: String) throws -> (body: ByteBuffer, usage: Usage?) {
        guard var editor = JSONObjectEditor(json) else { throw ProviderError.invalidResponse("the answer is not a JSON object") }
        if editor.contains("model") { editor.set("model", model) }
        return (editor.result(), editor.value("usage", as: AnthropicUsage.self)?.usage)
    }

    /// The canonical request for a translated call; a body error is a 400 naming the field.
    static func canonical(_ bytes: ByteBuffer) throws(ServiceError) -> ChatCompletionRequest {
        try AnthropicRequestTranslator.request(from: try JSONBody.decode(JSONValue.self, from: Data(bytes.readableBytesView)))
    }
}

/// Anthropic's event stream: the upstream's own events relayed (usage read from them, an upstream `error`
/// event relayed and remembered), or canonical chunks translated to events; a failure after the first byte
/// is an `event: error` in Anthropic's shape.
struct AnthropicStreamEncoder: StreamEncoder {
    private var relay: AnthropicRelayEvents?
    private var translator: AnthropicStreamTranslator?

    init(model: String, relayed: Bool) {
        if relayed {
            relay = AnthropicRelayEvents(model: model)
        } else {
            translator = AnthropicStreamTranslator(model: model)
        }
    }

    var usage: Usage? { relay?.recordedUsage }
    var relayedFailure: ProviderError? { relay?.upstreamError }

    func start() -> ByteBuffer {
        Self.joined(translator?.start() ?? [])
    }

    mutating func encode(_ event: UpstreamEvent) throws -> ByteBuffer {
        switch event {
        case .bytes(let bytes): return Self.joined(try relay?.push(bytes) ?? [])
        case .chunk(let chunk): return Self.joined(translator?.translate(chunk) ?? [])
        }
    }

    var truncation: ProviderError? {
        guard let relay, relay.upstreamError == nil, !relay.stopped else { return nil }
        return .invalidResponse("the stream ended before message_stop")
    }

    mutating func finish(usage: Usage?) -> ByteBuffer {
        if var translator {
            defer { self.translator = translator }
            return Self.joined(translator.finish(usage: usage))
        }
        guard var relay else { return ByteBuffer() }
        defer { self.relay = relay }
        return Self.joined(relay.finish())
    }

    func failure(_ error: ServiceError) -> ByteBuffer {
        AnthropicStreamTranslator.frame(event: "error", json: WireError.json(error, shape: .anthropic).readableBytesView)
    }

    private static func joined(_ frames: [ByteBuffer]) -> ByteBuffer {
        guard frames.count != 1 else { return frames[0] }
        var out = ByteBuffer()
        for frame in frames { out.writeImmutableBuffer(frame) }
        return out
    }
}
