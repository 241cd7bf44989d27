/// The master keys this process may use: the current one seals, every loaded one opens.
///
/// Older versions are present only while a rotation re-encrypts rows; once none remain the
/// previous secret is dropped from the environment and from the keyring.
public struct Keyring: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Used for every new encryption.
    public let current: MasterKey
    private let byVersion: [Int: MasterKey]

    public init(current: MasterKey, previous: [MasterKey] = []) throws(VaultConfigurationError) {
        var byVersion = [current.version: current]
        for key in previous {
            guard byVersion[key.version] == nil else { throw .duplicateKeyVersion(key.version) }
            byVersion[key.version] = key
        }
        self.current = current
        self.byVersion = byVersion
    }

    /// A keyring of one key: the usual case outside a rotation, and the canary's.
    public init(only key: MasterKey) {
        self.current = key
        self.byVersion = [key.version: key]
    }

    /// The key for a version named in a ciphertext, if it is loaded.
    public func key(forVersion version: Int) -> MasterKey? {
        byVersion[version]
    }

    /// Loaded versions, ascending.
    public var versions: [Int] { byVersion.keys.sorted() }

    public var description: String { "Keyring(current: \(current.version), versions: \(versions), <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["current": current.version, "versions": versions], displayStyle: .struct)
    }
}
