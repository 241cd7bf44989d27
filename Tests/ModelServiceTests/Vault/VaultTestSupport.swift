import Crypto
import Foundation

@testable import ModelService
@testable import ModelServiceCore

/// Shared fixtures: cheap scrypt cost, fixed salts and valid-looking secrets.
enum VaultFixtures {
    static let secretA = Secret("Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGVzdHMtb25seS1B")
    static let secretB = Secret("Q29tcGxldGVseS1kaWZmZXJlbnQtc2VjcmV0LWZvci1C")
    static let installationSalt: [UInt8] = Array(0..<16)

    static func masterKey(_ secret: Secret = secretA, version: Int = 1) throws -> MasterKey {
        try MasterKey.derive(secret: secret, salt: installationSalt, version: version, cost: .fastForTests)
    }

    static func cipher(_ secret: Secret = secretA, version: Int = 1) throws -> KeyCipher {
        KeyCipher(keyring: Keyring(only: try masterKey(secret, version: version)))
    }

    static let binding = RecordBinding(keyId: "key-1", owner: "user-42", provider: "openai")

    /// A fresh empty directory under the system temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vault-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Everything a value prints as: description, debug description, interpolation, reflection, dump.
    static func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return ["\(value)", String(describing: value), String(reflecting: value), dumped]
    }
}
