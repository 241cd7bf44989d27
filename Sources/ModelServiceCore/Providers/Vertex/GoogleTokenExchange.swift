import AsyncHTTPClient
import Foundation
import NIOCore

/// One access token from Google's token endpoint, and how long it lasts.
package struct GoogleAccessToken: Sendable {
    package var value: Secret
    /// Seconds the endpoint said it lasts, bounded to 0...86,400 whatever it sent.
    package var lifetimeSeconds: Int
}

/// Trades a signed assertion for an access token at the account's `token_uri`
/// (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`).
package enum GoogleTokenExchange {
    package static let grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// The longest a token request may take, whatever the upstream timeout.
    package static let timeout: TimeAmount = .seconds(30)

    private struct Answer: Decodable {
        var access_token: String?
        var expires_in: JSONValue?
        var token_type: String?
    }

    private struct Refusal: Decodable {
        var error: String?
        var error_description: String?
    }

    /// A refusal of the account (an unknown key, a bad signature, a disabled account) is a 401 `ProviderError`, so the
    /// gateway treats it as a rejected key; messages name the account, never the key or the assertion.
    package static func fetch(_ account: GoogleServiceAccount, client: UpstreamClient, now: Int64 = Clock.nowMillis() / 1000) async throws -> GoogleAccessToken {
        let assertion: String
        do {
            assertion = try GoogleJWT.assertion(for: account, issuedAt: now)
        } catch {
            throw ProviderError.upstreamRejected(
                status: 401, message: "the service account \(account.clientEmail) cannot sign: \(error)", type: "authentication_error", code: "invalid_credentials",
                retryAfter: nil)
        }
        var request = HTTPClientRequest(url: account.tokenURI)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "grant_type=\(grantType.formEncoded)&assertion=\(assertion)"))
        let scrubbed = Secret(assertion)
        let wait = min(client.requestTimeout, Self.timeout)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.httpClient.execute(request, deadline: .now() + wait)
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw UpstreamClient.providerError(for: error, apiKey: scrubbed)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else { throw refusal(status: status, body: body, account: account, assertion: scrubbed) }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView)), let token = answer.access_token,
            !token.isEmpty, token.utf8.count <= 8_192, token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw ProviderError.invalidResponse("the token endpoint answered without a usable access_token") }
        if let type = answer.token_type, type.lowercased() != "bearer" {
            throw ProviderError.invalidResponse("the token endpoint issued a \(type.prefix(40)) token, not a Bearer token")
        }
        // Outside data: any number (huge, negative, fractional, absent) becomes a lifetime in 0...86,400 s.
        let lifetime = answer.expires_in?.doubleValue.map { Saturating.int($0, in: 0...86_400) } ?? 3_600
        return GoogleAccessToken(value: Secret(token), lifetimeSeconds: lifetime)
    }

    private static func refusal(status: Int, body: ByteBuffer, account: GoogleServiceAccount, assertion: Secret) -> ProviderError {
        let refusal = try? JSONDecoder().decode(Refusal.self, from: Data(body.readableBytesView))
        let reason = [refusal?.error, refusal?.error_description].compactMap { $0 }.joined(separator: ": ")
        let detail = ProviderError.scrub(String((reason.isEmpty ? "HTTP \(status)" : reason).prefix(300)), apiKey: assertion)
        switch status {
        case 429: return .upstreamRejected(status: 429, message: "the token endpoint is rate limiting: \(detail)", type: nil, code: nil, retryAfter: nil)
        case 400..<500:
            // Google answers a bad signature, an unknown key or a disabled account with 400 `invalid_grant`: a rejected key.
            return .upstreamRejected(
                status: 401, message: "the token endpoint refused the service account \(account.clientEmail): \(detail)", type: "authentication_error",
                code: refusal?.error ?? "invalid_grant", retryAfter: nil)
        default: return .upstreamFailed(status: status, message: "the token endpoint failed: \(detail)")
        }
    }
}

extension String {
    /// `application/x-www-form-urlencoded` escaping of a value.
    fileprivate var formEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._*"))) ?? self
    }
}
