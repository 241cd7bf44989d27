import AsyncHTTPClient
import CryptoExtras
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The configured OpenID Connect provider as the console's sign-in uses it: its discovery document and
/// signing keys (fetched over the service's HTTP client and kept for an hour; an unknown key id fetches the
/// keys again, at most once a minute, so a key rotation is followed), the authorization URL with PKCE,
/// `state` and `nonce`, and the code exchange. Holds no per-user state.
public final class OpenIDProvider: Sendable {
    public let settings: OpenIDSettings
    private let http: HTTPClient
    private let cache = Mutex(Cache())

    /// Longest wait for the provider on one request, and the largest answer read.
    static let timeout: TimeAmount = .seconds(10)
    static let maxResponseBytes = 256 * 1024

    private struct Cache {
        var discovery: Discovery?
        var discoveredAt: Int64 = 0
        var keys: [String: _RSA.Signing.PublicKey] = [:]
        var keysAt: Int64 = 0
        /// When an unknown key id last made the keys be fetched again (at most once a minute).
        var forcedAt: Int64 = 0
    }

    /// The members of the discovery document the sign-in needs.
    struct Discovery: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
    }

    private struct KeySet: Decodable {
        struct Key: Decodable {
            var kty: String
            var kid: String?
            var use: String?
            var n: String?
            var e: String?
        }

        var keys: [Key]
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public init(settings: OpenIDSettings, http: HTTPClient) {
        self.settings = settings
        self.http = http
    }

    /// Where to send the browser to sign in; `challenge` is the PKCE S256 challenge of the attempt's verifier.
    public func authorizationURL(state: String, nonce: String, challenge: String, redirectURI: String) async throws -> String {
        let discovery = try await discover()
        guard var components = URLComponents(string: discovery.authorization_endpoint) else { throw Failure("the provider's authorization endpoint is not a URL") }
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: settings.clientId),
            URLQueryItem(name: "redirect_uri", value: redirectURI), URLQueryItem(name: "scope", value: settings.scopes),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: challenge), URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = components.string else { throw Failure("the authorization URL cannot be built") }
        return url
    }

    /// Trades the code for tokens and verifies the ID token against the provider's keys and this attempt's nonce.
    public func signIn(code: String, verifier: String, nonce: String, redirectURI: String) async throws -> IDToken {
        let discovery = try await discover()
        var request = HTTPClientRequest(url: discovery.token_endpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        let credentials = Self.formEncode(settings.clientId) + ":" + Self.formEncode(settings.clientSecret.reveal)
        request.headers.add(name: "authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        let form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier),
            ("client_id", settings.clientId),
        ].map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        let (status, body) = try await fetch(request)
        guard (200..<300).contains(status) else {
            let error = (try? JSONDecoder().decode([String: JSONValue].self, from: body))?["error"]?.stringValue ?? "HTTP \(status)"
            throw Failure("the provider refused the sign-in code (\(error.prefix(100)))")
        }
        guard let answer = try? JSONDecoder().decode([String: JSONValue].self, from: body), let idToken = answer["id_token"]?.stringValue else {
            throw Failure("the provider's token answer has no ID token")
        }
        let now = Clock.nowMillis() / 1000
        do {
            return try IDToken.verify(idToken, keys: try await keys(), issuer: discovery.issuer, clientId: settings.clientId, nonce: nonce, nowSeconds: now)
        } catch let refusal as IDToken.Refusal where refusal.description.contains("does not publish") {
            // A key id not seen yet: the provider may have rotated its keys.
            return try IDToken.verify(
                idToken, keys: try await keys(refresh: true), issuer: discovery.issuer, clientId: settings.clientId, nonce: nonce, nowSeconds: now)
        }
    }

    private func discover() async throws -> Discovery {
        let now = Clock.nowMillis()
        if let known = cache.withLock({ $0.discovery != nil && now - $0.discoveredAt < 3_600_000 ? $0.discovery : nil }) { return known }
        var base = settings.issuer
        while base.hasSuffix("/") { base.removeLast() }
        let (status, body) = try await fetch(HTTPClientRequest(url: base + "/.well-known/openid-configuration"))
        guard (200..<300).contains(status), let discovery = try? JSONDecoder().decode(Discovery.self, from: body) else {
            throw Failure("the provider's discovery document cannot be read (HTTP \(status))")
        }
        // The document must be the configured issuer's (OpenID Connect Discovery §4.3).
        guard EndpointURL.normalized(discovery.issuer) == EndpointURL.normalized(settings.issuer) else {
            throw Failure("the discovery document names another issuer")
        }
        cache.withLock {
            $0.discovery = discovery
            $0.discoveredAt = now
        }
        return discovery
    }

    private func keys(refresh: Bool = false) async throws -> [String: _RSA.Signing.PublicKey] {
        let now = Clock.nowMillis()
        let cached = cache.withLock { cache -> [String: _RSA.Signing.PublicKey]? in
            guard !cache.keys.isEmpty else { return nil }
            if refresh {
                // A forged key id in a flood of callbacks fetches the keys once a minute, not once a callback.
                guard now - cache.forcedAt < 60_000 else {
                    cache.forcedAt = now
                    return nil
                }
                return cache.keys
            }
            return now - cache.keysAt < 3_600_000 ? cache.keys : nil
        }
        if let cached { return cached }
        let discovery = try await discover()
        let (status, body) = try await fetch(HTTPClientRequest(url: discovery.jwks_uri))
        guard (200..<300).contains(status), let set = try? JSONDecoder().decode(KeySet.self, from: body) else {
            throw Failure("the provider's signing keys cannot be read (HTTP \(status))")
        }
        var keys: [String: _RSA.Signing.PublicKey] = [:]
        for (index, key) in set.keys.prefix(50).enumerated() where key.kty == "RSA" && key.use != "enc" {
            guard let n = key.n.flatMap({ Base64URL.decode(Substring($0)) }), let e = key.e.flatMap({ Base64URL.decode(Substring($0)) }),
                let publicKey = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { continue }
            keys[key.kid ?? "#\(index)"] = publicKey
        }
        guard !keys.isEmpty else { throw Failure("the provider publishes no RSA signing key") }
        cache.withLock {
            $0.keys = keys
            $0.keysAt = now
        }
        return keys
    }

    private func fetch(_ request: HTTPClientRequest) async throws -> (Int, Data) {
        do {
            let response = try await http.execute(request, deadline: .now() + Self.timeout)
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            throw Failure("the provider cannot be reached")
        }
    }

    /// `application/x-www-form-urlencoded` value encoding (RFC 6749 appendix B).
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
