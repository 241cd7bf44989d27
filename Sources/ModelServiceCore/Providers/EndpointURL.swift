import Foundation

/// The rules for a provider base URL (a model's `providerSettings.baseURL`, a key's `endpoint`, the
/// `*_BASE_URL` variables), and the one form in which two of them are compared.
///
/// Only `http`/`https` with a host: `http+unix://` would reach local sockets, and userinfo
/// (`https://user:pass@host`) would put a credential where logs and responses show URLs.
public enum EndpointURL {
    public static let maxBytes = 2_048

    /// Why `text` is not an acceptable base URL, or nil.
    public static func problem(_ text: String) -> String? {
        if text.utf8.count > maxBytes { return "must be at most \(maxBytes) bytes" }
        if let problem = TextInput.controlCharacterProblem(text) { return problem }
        if text.contains(where: \.isWhitespace) { return "must not contain spaces" }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "must be an absolute http or https URL"
        }
        guard scheme == "http" || scheme == "https" else { return "must use http or https, not \(scheme)" }
        guard let host = components.host, !host.isEmpty else { return "must name a host" }
        if components.user != nil || components.password != nil { return "must not hold a user name or password" }
        return nil
    }

    /// Returns `text` when acceptable, else a 400 naming `field`.
    @discardableResult
    public static func check(_ text: String, field: String) throws(ServiceError) -> String {
        if let problem = problem(text) { throw .invalidField(field, problem) }
        return text
    }

    /// Scheme and host lower-cased, the default port dropped, no trailing slash, no query or
    /// userinfo: `HTTPS://API.openai.com:443/v1/` and `https://api.openai.com/v1` are one endpoint.
    public static func normalized(_ text: String) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let host = components.host
        else { return text }
        var port = ""
        if let value = components.port, !(scheme == "https" && value == 443) && !(scheme == "http" && value == 80) { port = ":\(value)" }
        var path = Substring(components.percentEncodedPath)
        while path.hasSuffix("/") { path = path.dropLast() }
        return "\(scheme)://\(host.lowercased())\(port)\(path)"
    }
}
