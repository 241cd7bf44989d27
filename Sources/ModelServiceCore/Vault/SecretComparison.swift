import Crypto

/// Equality for secrets (the `x-internal-secret` header) whose timing reveals nothing.
///
/// Both sides are hashed first, so the comparison always walks 32 bytes: neither a matching
/// prefix nor the expected length shows in the time taken. A drop-in superset of
/// `Accounts/SecretComparison.swift` (same `equal(_:_:)` on strings), which it replaces.
public enum SecretComparison {
    public static func equal(_ lhs: some Sequence<UInt8>, _ rhs: some Sequence<UInt8>) -> Bool {
        let left = Array(SHA256.hash(data: Array(lhs)))
        let right = Array(SHA256.hash(data: Array(rhs)))
        var difference: UInt8 = 0
        for index in 0..<left.count {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }

    /// Two hex digests (SHA-256 of a token) in constant time, without hashing again: a digest's
    /// length is the same for every token, and its bytes already give nothing away about the token.
    public static func equalDigests(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<left.count {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }

    public static func equal(_ lhs: String, _ rhs: String) -> Bool {
        equal(lhs.utf8, rhs.utf8)
    }

    public static func equal(_ lhs: Secret, _ rhs: Secret) -> Bool {
        equal(lhs.reveal.utf8, rhs.reveal.utf8)
    }
}
