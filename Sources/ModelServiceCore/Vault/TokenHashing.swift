import Crypto

/// How access tokens are stored: only their SHA-256, so a database leak yields no usable token.
///
/// Tokens are long random values, so an unsalted fast hash is enough and lets lookup be an index hit.
public enum TokenHashing {
    /// Lowercase hex SHA-256 of the token's UTF-8 bytes (64 characters).
    public static func sha256Hex(_ token: Secret) -> String {
        sha256Hex(of: token.reveal)
    }

    public static func sha256Hex(of token: String) -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(token.utf8)) {
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
