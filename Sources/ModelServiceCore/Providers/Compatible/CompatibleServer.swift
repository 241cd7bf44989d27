import Foundation
import NIOCore

/// A server that speaks OpenAI's API (Mistral, Groq, Together, Fireworks, OpenRouter, Cerebras, a local vLLM):
/// a name, a base URL, the variable holding its key (none for a server that needs no key) and what it can do.
///
/// A model of provider `openai-compatible` declares its server in `providerSettings` (`server`, `baseURL`,
/// `capabilities`) and `apiKeyEnvVar`. The models on one base URL share its key card in Settings and its stored
/// keys (bound to that URL, so a key is never sent to another server); circuits are keyed by base URL too.
public struct CompatibleServer: Sendable, Hashable {
    /// What a server can be asked for; a call needing something its server lacks is refused before it is sent.
    public enum Capability: String, Sendable, Hashable, CaseIterable, Comparable {
        case chat, stream, embeddings, tools

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var name: String
    public var baseURL: String
    /// The server variable holding its key, sent to this server's base URL only; nil when it needs none.
    public var apiKeyEnvVar: String?
    public var capabilities: Set<Capability>

    /// What a server is taken to have when its models list nothing: the upstream refuses what it cannot do.
    public static let allCapabilities = Set(Capability.allCases)
    static let maxNameLength = 63

    public init(name: String, baseURL: String, apiKeyEnvVar: String? = nil, capabilities: Set<Capability> = allCapabilities) {
        self.name = name
        self.baseURL = baseURL
        self.apiKeyEnvVar = apiKeyEnvVar
        self.capabilities = capabilities
    }

    /// The server a model is called on; nil unless its provider is `openai-compatible`. A deployment onto such a
    /// server from a model of another provider names no server: its host stands for the name.
    public init?(model: Model) {
        guard model.provider == .openaiCompatible else { return nil }
        let baseURL = model.providerSettings["baseURL"]?.stringValue ?? ProviderKind.openaiCompatible.defaultBaseURL
        let name = model.providerSettings["server"]?.stringValue ?? URLComponents(string: baseURL)?.host ?? "server"
        let listed = model.providerSettings["capabilities"]?.arrayValue?.compactMap { $0.stringValue.flatMap(Capability.init(rawValue:)) }
        self.init(name: name, baseURL: baseURL, apiKeyEnvVar: model.apiKeyEnvVar, capabilities: listed.map { Set($0) } ?? Self.allCapabilities)
    }

    /// True when `endpoint` is this server's base URL, however it is written (``EndpointURL/normalized(_:)``).
    public func isServed(at endpoint: String) -> Bool {
        EndpointURL.normalized(baseURL) == EndpointURL.normalized(endpoint)
    }

    /// The servers the active models are called on, one per base URL, by name: a Settings card each.
    public static func servers(in models: [Model]) -> [CompatibleServer] {
        var byEndpoint: [String: CompatibleServer] = [:]
        for model in models where model.isActive {
            guard let server = CompatibleServer(model: model) else { continue }
            let endpoint = EndpointURL.normalized(server.baseURL)
            if var known = byEndpoint[endpoint] {
                known.capabilities.formUnion(server.capabilities)
                known.apiKeyEnvVar = known.apiKeyEnvVar ?? server.apiKeyEnvVar
                byEndpoint[endpoint] = known
            } else {
                byEndpoint[endpoint] = server
            }
        }
        return byEndpoint.values.sorted { ($0.name, $0.baseURL) < ($1.name, $1.baseURL) }
    }

    /// What a model of provider `openai-compatible` must say of its server: a name, a base URL, known capabilities,
    /// and a key variable that is not another provider's (it is sent to this server).
    package static func check(settings: [String: JSONValue], apiKeyEnvVar: String?) throws(ServiceError) {
        guard let name = settings["server"] else {
            throw .invalidField("providerSettings.server", "is required for provider openai-compatible: the server's name, such as \"groq\"")
        }
        guard let text = name.stringValue, isValidName(text) else {
            throw .invalidField(
                "providerSettings.server", "must be 1 to \(maxNameLength) lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        guard settings["baseURL"] != nil else {
            throw .invalidField("providerSettings.baseURL", "is required for provider openai-compatible: the server's base URL, such as https://api.groq.com/openai/v1")
        }
        if let listed = settings["capabilities"] {
            let known = Capability.allCases.map(\.rawValue).joined(separator: ", ")
            guard let items = listed.arrayValue, !items.isEmpty, items.count <= Capability.allCases.count * 2,
                items.allSatisfy({ $0.stringValue.flatMap(Capability.init(rawValue:)) != nil })
            else { throw .invalidField("providerSettings.capabilities", "must be a non-empty list of \(known)") }
        }
        if let apiKeyEnvVar, let owner = ProviderKind.allCases.first(where: { $0.defaultAPIKeyEnvVar == apiKeyEnvVar }) {
            throw .invalidField(
                "apiKeyEnvVar", "is the \(owner.rawValue) provider's key variable, and would be sent to this server: name the server's own, such as GROQ_API_KEY")
        }
    }

    static func isValidName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= maxNameLength else { return false }
        let allowed = { (scalar: Unicode.Scalar) in (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") }
        return allowed(first) && text.unicodeScalars.allSatisfy { allowed($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// The refusal of a call this server cannot take (a 400 naming the field), or nil; checked at admission.
    package func refusal(door: Call.Door, streaming: Bool, body: ByteBuffer, model: String) -> ServiceError? {
        let missing: (Capability, String)? =
            if door == .embeddings, !capabilities.contains(.embeddings) {
                (.embeddings, "model")
            } else if door != .embeddings, !capabilities.contains(.chat) {
                (.chat, "model")
            } else if streaming, !capabilities.contains(.stream) {
                (.stream, "stream")
            } else if !capabilities.contains(.tools), Self.asksForTools(body) {
                (.tools, "tools")
            } else {
                nil
            }
        guard let (capability, field) = missing else { return nil }
        let has = capabilities.sorted().map(\.rawValue).joined(separator: ", ")
        return ServiceError(
            .invalidRequest, "The model '\(model)' is served by '\(name)', which has no \(capability.rawValue) (it has: \(has)).", field: field)
    }

    /// True when the client's JSON has a non-empty top-level `tools` list (OpenAI, Anthropic and Responses all name it so).
    private static func asksForTools(_ body: ByteBuffer) -> Bool {
        guard let editor = JSONObjectEditor(body), let tools = editor.presentValue("tools") else { return false }
        let inner = tools.dropFirst().drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return !(tools.first == UInt8(ascii: "[") && inner.first == UInt8(ascii: "]"))
    }
}
