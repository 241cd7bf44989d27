import Crypto
import CryptoExtras

/// The 256-bit key that every per-record key is derived from, for one master-key version.
///
/// Derived once at start with scrypt so a stolen database cannot be brute-forced cheaply; per-record
/// work is then HKDF + AES-GCM (microseconds). Nothing derived from it is ever stored except the canary.
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// scrypt parameters. `.production` is the design's cost; `.fastForTests` keeps test suites quick.
    public struct Cost: Sendable, Hashable {
        public let rounds: Int
        public let blockSize: Int
        public let parallelism: Int

        public init(rounds: Int, blockSize: Int, parallelism: Int) {
            self.rounds = rounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// N = 2^15, r = 8, p = 1: about 90 ms and 32 MiB on the target machine, once per start.
        public static let production = Cost(rounds: 1 << 15, blockSize: 8, parallelism: 1)
        /// N = 2^10: same algorithm, about 30 times cheaper; never use outside tests.
        public static let fastForTests = Cost(rounds: 1 << 10, blockSize: 8, parallelism: 1)
    }

    /// Size of the per-installation scrypt salt the database keeps next to the key version.
    public static let installationSaltByteCount = 16
    public static let keyByteCount = 32

    /// The version written into every ciphertext sealed under this key (`v1.<version>.…`).
    public let version: Int
    package let key: SymmetricKey

    /// For tests and for callers that already hold key bytes; production code uses `derive`.
    package init(version: Int, key: SymmetricKey) {
        self.version = version
        self.key = key
    }

    /// Derives the master key: scrypt(secret, installation salt) → 32 bytes.
    public static func derive(
        secret: Secret,
        salt: [UInt8],
        version: Int,
        cost: Cost = .production
    ) throws(VaultConfigurationError) -> MasterKey {
        guard version > 0 else { throw .invalidKeyVersion(version) }
        guard salt.count >= installationSaltByteCount else { throw .invalidInstallationSalt(byteCount: salt.count) }
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: Array(secret.reveal.utf8),
                salt: salt,
                outputByteCount: keyByteCount,
                rounds: cost.rounds,
                blockSize: cost.blockSize,
                parallelism: cost.parallelism
            )
            return MasterKey(version: version, key: key)
        } catch {
            throw .keyDerivationFailed
        }
    }

    /// A fresh random installation salt, created once when the `encryption_keys` row is first written.
    public static func makeInstallationSalt() -> [UInt8] {
        SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
    }

    public var description: String { "MasterKey(version: \(version), <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["version": version], displayStyle: .struct) }
}
