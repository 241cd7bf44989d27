/// The row a ciphertext belongs to, authenticated as AES-GCM associated data.
///
/// A ciphertext copied into another row (other key id, owner or provider) then fails to decrypt,
/// so a database writer cannot move a team's key to itself.
public struct RecordBinding: Sendable, Hashable {
    /// Owner marker for keys shared by the whole installation; user ids never start with `@`.
    public static let sharedOwner = "@shared"

    /// Owner of a key shared with one team: `@team:` and the team's id (``teamOwner(_:)``).
    public static let teamOwnerPrefix = "@team:"

    public static func teamOwner(_ teamId: String) -> String { teamOwnerPrefix + teamId }

    /// The team a key owner stands for; nil for a user's or the installation's key.
    public static func teamId(ofOwner owner: String) -> String? {
        owner.hasPrefix(teamOwnerPrefix) ? String(owner.dropFirst(teamOwnerPrefix.count)) : nil
    }

    public let keyId: String
    /// A user id, `RecordBinding.sharedOwner`, or a team's owner (``teamOwner(_:)``).
    public let owner: String
    public let provider: String
    /// The endpoint the key was stored for; nil means the provider's configured base URL. Part of
    /// the associated data only when set, so rows stored before endpoints existed decrypt as before.
    public let endpoint: String?

    public init(keyId: String, owner: String, provider: String, endpoint: String? = nil) {
        self.keyId = keyId
        self.owner = owner
        self.provider = provider
        self.endpoint = endpoint
    }

    public static func shared(keyId: String, provider: String) -> RecordBinding {
        RecordBinding(keyId: keyId, owner: sharedOwner, provider: provider)
    }

    /// Unambiguous bytes for the associated data: a domain label, the master-key version, then each
    /// field as a 4-byte big-endian UTF-8 length followed by its bytes ("ab"+"c" ≠ "a"+"bc").
    /// Fields are bound byte-for-byte, so callers pass them exactly as stored.
    package func associatedData(keyVersion: Int) -> [UInt8] {
        var bytes = [UInt8]()
        for field in [KeyCipher.info, String(keyVersion), keyId, owner, provider] + (endpoint.map { [$0] } ?? []) {
            let utf8 = Array(field.utf8)
            let length = UInt32(truncatingIfNeeded: utf8.count)
            bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            bytes += utf8
        }
        return bytes
    }
}
