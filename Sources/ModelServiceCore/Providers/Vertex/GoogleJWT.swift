import Crypto
import CryptoExtras
import Foundation

/// The signed assertion a service account trades for an access token (RFC 7523, Google's OAuth 2.0 for servers):
/// an RS256 JWT naming the account, the scope and the token endpoint, valid for an hour.
package enum GoogleJWT {
    package static let scope = "https://www.googleapis.com/auth/cloud-platform"
    /// Google refuses assertions that live longer than an hour.
    package static let lifetimeSeconds: Int64 = 3600

    private struct Header: Encodable {
        var alg = "RS256"
        var typ = "JWT"
        var kid: String
    }

    private struct Claims: Encodable {
        var iss: String
        var scope: String
        var aud: String
        var iat: Int64
        var exp: Int64
    }

    /// `base64url(header).base64url(claims).base64url(RSASSA-PKCS1-v1_5 SHA-256 signature)`.
    package static func assertion(for account: GoogleServiceAccount, issuedAt: Int64) throws(GoogleServiceAccountError) -> String {
        let header = Header(kid: account.privateKeyID)
        let claims = Claims(
            iss: account.clientEmail, scope: scope, aud: account.tokenURI, iat: issuedAt, exp: Saturating.add(issuedAt, lifetimeSeconds))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let headerJSON = try? encoder.encode(header), let claimsJSON = try? encoder.encode(claims) else {
            throw .init(field: nil, problem: "the assertion could not be encoded")
        }
        let signingInput = Base64URL.encode(headerJSON) + "." + Base64URL.encode(claimsJSON)
        let key = try account.signingKey()
        guard let signature = try? key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5) else {
            throw .init(field: "private_key", problem: "could not sign with this key")
        }
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
