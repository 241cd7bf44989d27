import Crypto
import CryptoExtras
import Foundation

/// An OpenID Connect ID token checked as the core spec asks (§3.1.3.7): an RS256 signature by one of the
/// provider's published keys, `iss` the configured issuer, `aud` holding the client id, `exp` in the future
/// (a minute of clock skew allowed), and `nonce` the one this sign-in sent.
public struct IDToken: Sendable {
    /// The claims, as JSON values (the user and groups claims are configurable).
    public let claims: [String: JSONValue]

    /// Why a token is refused: said on the sign-in page in these words (no token or secret in them).
    public struct Refusal: Error, Sendable, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Longest ID token read: providers' are a few KiB.
    static let maxBytes = 64 * 1024
    static let clockSkewSeconds: Int64 = 60

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }

    /// Verifies `token` with `keys` (the provider's JWKS, by key id); `nowSeconds` is the current time.
    package static func verify(
        _ token: String, keys: [String: _RSA.Signing.PublicKey], issuer: String, clientId: String, nonce: String, nowSeconds: Int64
    ) throws(Refusal) -> IDToken {
        guard token.utf8.count <= maxBytes else { throw Refusal("the ID token is too large") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw Refusal("the ID token is not a signed JWT") }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else { throw Refusal("the ID token's header cannot be read") }
        guard header.alg == "RS256" else { throw Refusal("the ID token is signed with \(header.alg.prefix(20)); only RS256 is accepted") }
        let key: _RSA.Signing.PublicKey?
        if let kid = header.kid { key = keys[kid] } else { key = keys.count == 1 ? keys.values.first : nil }
        guard let key else { throw Refusal("the ID token is signed with a key the provider does not publish") }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        guard key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5) else {
            throw Refusal("the ID token's signature does not verify with the provider's key")
        }
        guard let claims = try? JSONDecoder().decode([String: JSONValue].self, from: Data(claimBytes)) else {
            throw Refusal("the ID token's claims cannot be read")
        }
        guard claims["iss"]?.stringValue == issuer else { throw Refusal("the ID token was issued by another issuer") }
        let audiences = claims["aud"]?.stringValue.map { [$0] } ?? claims["aud"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard audiences.contains(clientId) else { throw Refusal("the ID token is meant for another client") }
        if audiences.count > 1, let azp = claims["azp"]?.stringValue, azp != clientId { throw Refusal("the ID token was requested by another client") }
        guard let exp = claims["exp"].flatMap(Self.seconds) else { throw Refusal("the ID token has no expiry") }
        guard Saturating.add(exp, clockSkewSeconds) > nowSeconds else { throw Refusal("the ID token has expired") }
        if let iat = claims["iat"].flatMap(Self.seconds), iat > Saturating.add(nowSeconds, clockSkewSeconds) {
            throw Refusal("the ID token was issued in the future")
        }
        guard let sent = claims["nonce"]?.stringValue, SecretComparison.equal(sent, nonce) else {
            throw Refusal("the ID token's nonce is not the one this sign-in sent")
        }
        return IDToken(claims: claims)
    }

    /// A NumericDate as whole seconds, bounded (outside data).
    private static func seconds(_ value: JSONValue) -> Int64? {
        if let int = value.intValue { return Int64(int) }
        if let double = value.doubleValue, double.isFinite { return Int64(Saturating.int(double, in: 0...Int(Int32.max) * 4)) }
        return nil
    }

    /// The claim as text (a string, or a number written out); nil when absent or another shape.
    public func text(_ claim: String) -> String? {
        guard let value = claims[claim] else { return nil }
        if let text = value.stringValue { return text }
        return value.intValue.map(String.init)
    }

    /// The groups claim: a list of strings, or one string; at most 1,000 read.
    public func groups(_ claim: String) -> [String] {
        if let one = claims[claim]?.stringValue { return [one] }
        return Array((claims[claim]?.arrayValue ?? []).compactMap(\.stringValue).prefix(1_000))
    }
}
