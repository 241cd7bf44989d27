import Crypto
import CryptoExtras
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

@testable import ModelService
@testable import ModelServiceCore

/// An OpenID Connect provider on loopback that answers every authorization at once (no login form) and can be
/// told to misbehave: sign the ID token with a key it does not publish, send another nonce, or an expired token.
/// It checks PKCE (S256) and the client's credentials as a real provider does. For the refusals a real provider
/// (oidc-provider-mock, run in the browser test) never produces.
final class FakeOpenIDProvider: Sendable {
    enum Mode: Sendable { case honest, wrongNonce, expired, foreignSigned, wrongAudience }

    static let clientId = "model-service"
    static let clientSecret = "fake-oidc-client-secret-0123456789"

    private struct Pending: Sendable {
        var nonce: String
        var challenge: String
        var redirectURI: String
    }

    private struct State: Sendable {
        var mode = Mode.honest
        var subject = "olga"
        var groups: [String] = []
        var pending: [String: Pending] = [:]
        var tokenRequests = 0
        var pkceFailures = 0
    }

    let foreignKey: _RSA.Signing.PrivateKey
    /// The published key and its id; ``rotate()`` replaces both, as a provider's key rotation does.
    private let signing: Mutex<(kid: String, key: _RSA.Signing.PrivateKey)>
    private let state = Mutex(State())
    private let portBox = Mutex(0)

    var issuer: String { "http://127.0.0.1:\(portBox.withLock { $0 })" }
    var tokenRequests: Int { state.withLock { $0.tokenRequests } }
    var pkceFailures: Int { state.withLock { $0.pkceFailures } }

    init() throws {
        signing = Mutex((kid: "k1", key: try _RSA.Signing.PrivateKey(keySize: .bits2048)))
        foreignKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    /// Retires the signing key: a new one under a new key id is published and signs from now on.
    func rotate() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        signing.withLock { $0 = (kid: "k\((Int($0.kid.dropFirst()) ?? 1) + 1)", key: key) }
    }

    func set(mode: Mode, subject: String = "olga", groups: [String] = []) {
        state.withLock {
            $0.mode = mode
            $0.subject = subject
            $0.groups = groups
        }
    }

    /// Runs the provider for the duration of `body`.
    func run<T: Sendable>(_ body: @Sendable (FakeOpenIDProvider) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "fake-oidc", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return .failure(ProviderError.unreachable("fake provider did not start")) }
            portBox.withLock { $0 = port }
            do {
                return .success(try await body(self))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ in
            Self.json([
                "issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize", "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
            ])
        }
        router.get("/jwks") { _, _ in
            let (kid, key) = self.signing.withLock { ($0.kid, $0.key) }
            let primitives = try key.publicKey.getKeyPrimitives()
            return Self.json(["keys": [["kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": Base64URL.encode(primitives.modulus), "e": Base64URL.encode(primitives.publicExponent)]]])
        }
        router.get("/authorize") { request, _ in
            let query = request.uri.queryParameters
            guard query.get("client_id") == Self.clientId, query.get("code_challenge_method") == "S256", let redirect = query.get("redirect_uri"),
                let challenge = query.get("code_challenge"), let nonce = query.get("nonce"), let state = query.get("state")
            else { return Response(status: .badRequest) }
            let code = UUID().uuidString
            self.state.withLock { $0.pending[code] = Pending(nonce: nonce, challenge: challenge, redirectURI: redirect) }
            var components = URLComponents(string: redirect)!
            components.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: state)]
            return Response(status: .found, headers: [.location: components.string!])
        }
        router.post("/token") { request, _ in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 64 * 1024))
            var form: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                if parts.count == 2 { form[parts[0]] = parts[1] }
            }
            let expected = "Basic " + Data("\(Self.clientId):\(Self.clientSecret)".utf8).base64EncodedString()
            guard request.headers[.authorization] == expected else { return Response(status: .unauthorized) }
            guard let code = form["code"], let pending = self.state.withLock({ $0.pending.removeValue(forKey: code) }) else {
                return Self.json(["error": "invalid_grant"], status: .badRequest)
            }
            let verifier = form["code_verifier"] ?? ""
            guard Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8)))) == pending.challenge, form["redirect_uri"] == pending.redirectURI else {
                self.state.withLock { $0.pkceFailures += 1 }
                return Self.json(["error": "invalid_grant"], status: .badRequest)
            }
            let (mode, subject, groups) = self.state.withLock { state in
                state.tokenRequests += 1
                return (state.mode, state.subject, state.groups)
            }
            let now = Int(Date().timeIntervalSince1970)
            let claims: [String: Any] = [
                "iss": self.issuer, "sub": subject, "aud": mode == .wrongAudience ? "someone-else" : Self.clientId, "iat": now - (mode == .expired ? 7200 : 0),
                "exp": mode == .expired ? now - 3600 : now + 300, "nonce": mode == .wrongNonce ? "another-nonce" : pending.nonce, "groups": groups,
            ]
            let (kid, key) = self.signing.withLock { ($0.kid, $0.key) }
            let token = try self.sign(claims, kid: kid, with: mode == .foreignSigned ? self.foreignKey : key)
            return Self.json(["access_token": "at-\(code)", "token_type": "Bearer", "id_token": token, "expires_in": 300])
        }
        return router
    }

    private func sign(_ claims: [String: Any], kid: String, with key: _RSA.Signing.PrivateKey) throws -> String {
        let header = Base64URL.encode(try JSONSerialization.data(withJSONObject: ["alg": "RS256", "kid": kid, "typ": "JWT"]))
        let payload = Base64URL.encode(try JSONSerialization.data(withJSONObject: claims))
        let signature = try key.signature(for: Data((header + "." + payload).utf8), padding: .insecurePKCS1v1_5)
        return header + "." + payload + "." + Base64URL.encode(signature.rawRepresentation)
    }

    private static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
