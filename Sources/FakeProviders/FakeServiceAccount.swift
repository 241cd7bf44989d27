import Crypto
import CryptoExtras
import Foundation

/// A Google service account made up for tests: a fresh RSA key and the JSON key file Google would hand out for it,
/// its `token_uri` pointing at a fake Vertex AI token endpoint.
public struct FakeServiceAccount: Sendable {
    public let clientEmail: String
    public let privateKeyID: String
    public let projectID: String
    public let privateKey: _RSA.Signing.PrivateKey

    public var publicKey: _RSA.Signing.PublicKey { privateKey.publicKey }

    /// Generates a 2048-bit key (tens of milliseconds to a second in a debug build).
    public init(clientEmail: String = "gateway-test@fake-project.iam.gserviceaccount.com", projectID: String = "fake-project") throws {
        self.privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        self.clientEmail = clientEmail
        self.projectID = projectID
        self.privateKeyID = String(SHA256.hash(data: privateKey.publicKey.derRepresentation).map { String(format: "%02x", $0) }.joined().prefix(40))
    }

    /// The one account every fake server trusts from the start, made once per process.
    public static let standard: FakeServiceAccount? = try? FakeServiceAccount()

    /// The key file as Google writes it (PKCS#8 PEM, every member present), for a token endpoint at `tokenURI`.
    public func json(tokenURI: String) -> String {
        let object: [String: Any] = [
            "type": "service_account",
            "project_id": projectID,
            "private_key_id": privateKeyID,
            "private_key": privateKey.pkcs8PEMRepresentation + "\n",
            "client_email": clientEmail,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": tokenURI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The base64 lines of the private key's PEM body, for tests that look for any part of it where it must not be.
    public var privateKeyLines: [String] {
        privateKey.pkcs8PEMRepresentation.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") }
    }
}
