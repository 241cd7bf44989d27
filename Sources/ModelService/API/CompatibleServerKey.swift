import Foundation
import ModelServiceCore

/// Where a key of an OpenAI-compatible server is bound: the base URL of the server it names (`server`), or the
/// `endpoint` given. One of them is required, since such a key has no provider endpoint to fall back to, so a
/// key stored for one server is never sent to another. The key's name defaults to the server's.
enum CompatibleServerKey {
    struct Binding {
        var endpoint: String?
        var keyName: String
    }

    static func binding(
        provider: ProviderKind, server: String?, endpoint: String?, keyName: String?, registry: ModelRegistry
    ) throws(ServiceError) -> Binding {
        guard provider == .openaiCompatible else {
            if server != nil { throw .invalidField("server", "is for provider openai-compatible only") }
            return Binding(endpoint: endpoint, keyName: try APIKeyController.keyName(keyName ?? "default"))
        }
        let servers = CompatibleServer.servers(in: registry.models(provider: .openaiCompatible))
        let known = servers.isEmpty ? "none yet: add an openai-compatible model first" : servers.map(\.name).joined(separator: ", ")
        guard let server else {
            guard let endpoint else {
                throw .invalidField("server", "is required for an openai-compatible key: the server's name (\(known)) or its endpoint")
            }
            let named = servers.first { $0.isServed(at: endpoint) }?.name
            return Binding(endpoint: endpoint, keyName: try APIKeyController.keyName(keyName ?? named ?? "default"))
        }
        try TextInput.check(server, field: "server", maxCharacters: 100)
        let matches = servers.filter { $0.name == server }
        guard let match = matches.first else { throw .invalidField("server", "no active model is served by '\(server)'; servers: \(known)") }
        if let endpoint {
            guard matches.contains(where: { $0.isServed(at: endpoint) }) else {
                throw .invalidField("endpoint", "is not the base URL of the server '\(server)' (\(matches.map(\.baseURL).joined(separator: ", ")))")
            }
            return Binding(endpoint: endpoint, keyName: try APIKeyController.keyName(keyName ?? server))
        }
        if matches.count > 1 {
            throw .invalidField(
                "endpoint", "is required: the server '\(server)' has several base URLs (\(matches.map(\.baseURL).joined(separator: ", ")))")
        }
        return Binding(endpoint: match.baseURL, keyName: try APIKeyController.keyName(keyName ?? server))
    }
}
