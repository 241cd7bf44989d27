import Crypto
import CryptoExtras
import Foundation
import Hummingbird
import Synchronization

/// The fake Vertex AI's OAuth side: verifies each RS256 assertion against the public key of an account it trusts,
/// issues short-lived tokens (their lifetime set by the test, so refreshes happen), counts token requests, and
/// tells the model routes whether a Bearer token is one it issued that has not expired.
public final class FakeVertexAuthority: Sendable {
    private struct State {
        var trusted: [String: _RSA.Signing.PublicKey] = [:]
        var issued: [String: ContinuousClock.Instant] = [:]
        var lifetimeSeconds = 3600
        var tokenRequests = 0
        var tokensIssued = 0
        var refusedBearers = 0
    }

    private let state = Mutex(State())

    public init() {
        if let standard = FakeServiceAccount.standard { trust(standard) }
    }

    /// Accepts assertions signed by this account's key.
    public func trust(_ account: FakeServiceAccount) {
        state.withLock { $0.trusted[account.clientEmail] = account.publicKey }
    }

    /// `expires_in` of the tokens issued from now on.
    public func setTokenLifetime(seconds: Int) {
        state.withLock { $0.lifetimeSeconds = max(1, seconds) }
    }

    /// Requests to the token endpoint, refused ones included.
    public var tokenRequests: Int { state.withLock { $0.tokenRequests } }
    public var tokensIssued: Int { state.withLock { $0.tokensIssued } }
    /// Model calls refused for a missing, unknown or expired token (a gateway that refreshes in time causes none).
    public var refusedBearers: Int { state.withLock { $0.refusedBearers } }

    /// True for a token this authority issued that has not expired.
    public func accepts(_ token: String) -> Bool {
        state.withLock { state in
            let valid = state.issued[token].map { ContinuousClock.now < $0 } ?? false
            if !valid { state.refusedBearers += 1 }
            return valid
        }
    }

    /// `POST {token_uri}`: a form with `grant_type` and `assertion`; Google's `{access_token, expires_in, token_type}` or its
    /// 400 `invalid_grant`.
    func tokenResponse(form: String) -> Response {
        state.withLock { $0.tokenRequests += 1 }
        var fields: [String: String] = [:]
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" else {
            return Self.refusal("unsupported_grant_type", "Invalid grant_type.")
        }
        guard let assertion = fields["assertion"] else { return Self.refusal("invalid_request", "Missing required parameter: assertion") }
        if let problem = problem(assertion) { return Self.refusal("invalid_grant", problem) }
        let token = "fake-vertex-token-\(UUID().uuidString)"
        let lifetime = state.withLock { state in
            let now = ContinuousClock.now
            if state.issued.count > 10_000 { state.issued = state.issued.filter { $0.value > now } }
            state.issued[token] = now + .seconds(state.lifetimeSeconds)
            state.tokensIssued += 1
            return state.lifetimeSeconds
        }
        return FakeJSON.response(["access_token": token, "expires_in": lifetime, "token_type": "Bearer"])
    }

    /// Why the assertion is refused, in Google's words where it has them; nil when it is good.
    private func problem(_ assertion: String) -> String? {
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]), let claimsData = Self.base64URL(parts[1]), let signature = Self.base64URL(parts[2]),
            let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: claimsData)) as? [String: Any]
        else { return "Invalid JWT: malformed." }
        guard header["alg"] as? String == "RS256", header["typ"] as? String == "JWT", header["kid"] is String else { return "Invalid JWT header." }
        guard let issuer = claims["iss"] as? String, let key = state.withLock({ $0.trusted[issuer] }) else { return "Invalid JWT Signature." }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        guard key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5) else {
            return "Invalid JWT Signature."
        }
        guard claims["scope"] as? String == "https://www.googleapis.com/auth/cloud-platform" else { return "Invalid OAuth scope or ID token audience provided." }
        guard let audience = claims["aud"] as? String, audience.hasSuffix("/vertex/token") else { return "Invalid JWT: aud is not the token endpoint." }
        let now = Int(Date().timeIntervalSince1970)
        guard let issuedAt = claims["iat"] as? Int, let expiry = claims["exp"] as? Int else { return "Invalid JWT: iat and exp are required." }
        guard issuedAt <= now + 60, expiry > now, expiry - issuedAt <= 3600 else { return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe." }
        return nil
    }

    private static func refusal(_ error: String, _ description: String) -> Response {
        FakeJSON.response(["error": error, "error_description": description], status: .badRequest)
    }

    private static func base64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
