import Crypto

/// The signature of a delivery: `X-Model-Service-Signature: sha256=<hex>` where hex is
/// HMAC-SHA256(secret, "<X-Model-Service-Timestamp>.<body>"). Signing the timestamp with the body lets a
/// receiver refuse an old delivery replayed with its signature.
package enum WebhookSignature {
    package static let eventHeader = "X-Model-Service-Event"
    package static let deliveryHeader = "X-Model-Service-Delivery"
    package static let timestampHeader = "X-Model-Service-Timestamp"
    package static let signatureHeader = "X-Model-Service-Signature"

    /// `sha256=` and the lower-case hex HMAC of `"<timestamp>.<body>"`.
    package static func sign(secret: Secret, timestamp: Int64, body: String) -> String {
        let key = SymmetricKey(data: Array(secret.reveal.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).\(body)".utf8), using: key)
        return "sha256=" + hex(code)
    }

    /// A new signing secret: `whsec_` and 32 random bytes in base64url.
    package static func newSecret() -> Secret {
        Secret("whsec_" + Base64URL.encode(KeyCipher.randomBytes(count: 32)))
    }

    /// The row binding of a webhook's encrypted secret: the vault's cipher, bound to this webhook's id, so the
    /// ciphertext opens in no other row (an owner starting with `@` is never a user id).
    package static func binding(webhookId: String) -> RecordBinding {
        RecordBinding(keyId: webhookId, owner: "@webhook", provider: "webhook")
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
