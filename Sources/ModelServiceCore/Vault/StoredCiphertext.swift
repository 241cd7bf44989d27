/// The stored text form `v1.<keyVersion>.<salt>.<nonce>.<ciphertext+tag>` (base64url, no padding).
///
/// Parsing is strict, one accepted spelling per value: exact part count, canonical decimal version,
/// exact salt and nonce lengths, canonical base64url, so any edit to the text is either a parse error
/// or an AES-GCM authentication failure.
package struct StoredCiphertext: Sendable, Hashable {
    package static let formatTag = "v1"
    package static let separator = UInt8(ascii: ".")
    package static let saltByteCount = 16
    package static let nonceByteCount = 12
    package static let tagByteCount = 16
    /// Versions are small positive integers; the cap keeps the decimal parse trivially bounded.
    package static let maximumKeyVersion = 999_999_999

    package let keyVersion: Int
    package let salt: [UInt8]
    package let nonce: [UInt8]
    /// Ciphertext followed by the 16-byte tag.
    package let sealed: [UInt8]

    package init(keyVersion: Int, salt: [UInt8], nonce: [UInt8], sealed: [UInt8]) {
        self.keyVersion = keyVersion
        self.salt = salt
        self.nonce = nonce
        self.sealed = sealed
    }

    package init(parsing text: String) throws(VaultError) {
        // Work on UTF-8 bytes: every valid value is ASCII, and byte splitting is far cheaper than Characters.
        let parts = Array(text.utf8).split(separator: Self.separator, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].elementsEqual(Self.formatTag.utf8) else { throw .malformedCiphertext }
        guard let version = Self.parseVersion(parts[1]) else { throw .malformedCiphertext }
        guard let salt = Base64URL.decode(bytes: parts[2]), salt.count == Self.saltByteCount,
            let nonce = Base64URL.decode(bytes: parts[3]), nonce.count == Self.nonceByteCount,
            let sealed = Base64URL.decode(bytes: parts[4]), sealed.count >= Self.tagByteCount
        else { throw .malformedCiphertext }
        self.init(keyVersion: version, salt: salt, nonce: nonce, sealed: sealed)
    }

    package var text: String {
        [Self.formatTag, String(keyVersion), Base64URL.encode(salt), Base64URL.encode(nonce), Base64URL.encode(sealed)]
            .joined(separator: ".")
    }

    /// The version named by `text` if its first two parts are well formed; cheap, no base64 decoding.
    package static func keyVersion(of text: String) -> Int? {
        let parts = text.utf8.split(separator: separator, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].elementsEqual(formatTag.utf8) else { return nil }
        return parseVersion(parts[1])
    }

    /// Canonical positive decimal: ASCII digits only, no sign, no leading zero.
    package static func parseVersion(_ utf8: some Collection<UInt8>) -> Int? {
        guard let first = utf8.first, first != UInt8(ascii: "0"), utf8.count <= 9 else { return nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
