import Crypto
import CryptoExtras
import Foundation

/// A Google service-account key file, the credential Vertex AI calls are made with: read with size limits,
/// every field checked, and the private key held as a ``Secret`` that only ``GoogleJWT`` reads.
///
/// It is stored in the vault as its JSON text (one encrypted key record). The gateway may add two members of
/// its own, `project` and `region` (given with the key), which Google's libraries ignore.
public struct GoogleServiceAccount: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A real key file is about 2.4 KB; anything near this is not one.
    public static let maxBytes = 64 * 1024
    private static let maxFieldBytes = 16 * 1024

    public let clientEmail: String
    public let privateKeyID: String
    /// The PEM text: never printed, logged or encoded anywhere but into the JWT's signature.
    package let privateKey: Secret
    public let tokenURI: String
    /// The project the account belongs to (`project_id`).
    public let projectID: String?
    /// The project and region given with the key, used when the model names none.
    public var project: String?
    public var region: String?

    public var description: String { "GoogleServiceAccount(\(clientEmail), private key <redacted>)" }
    public var debugDescription: String { description }

    /// Reads and checks a key file's text; the error names the field, never a value.
    public static func parse(_ text: Secret) throws(GoogleServiceAccountError) -> GoogleServiceAccount {
        let raw = text.reveal
        guard raw.utf8.count <= maxBytes else { throw .init(field: nil, problem: "must be at most \(maxBytes / 1024) KiB") }
        guard raw.first(where: { !$0.isWhitespace }) == "{",
            let json = try? JSONDecoder().decode([String: JSONValue].self, from: Data(raw.utf8))
        else { throw .init(field: nil, problem: "must be the JSON key file of a Google service account") }
        func field(_ name: String, required: Bool = true) throws(GoogleServiceAccountError) -> String? {
            guard let value = json[name] else {
                if required { throw .init(field: name, problem: "is required") }
                return nil
            }
            guard case .string(let text) = value else { throw .init(field: name, problem: "must be a string") }
            guard text.utf8.count <= maxFieldBytes else { throw .init(field: name, problem: "is too long") }
            if required, text.trimmingCharacters(in: .whitespaces).isEmpty { throw .init(field: name, problem: "must not be empty") }
            if name != "private_key", TextInput.controlCharacterProblem(text) != nil { throw .init(field: name, problem: "must not contain control characters") }
            return text
        }
        guard try field("type") == "service_account" else { throw .init(field: "type", problem: "must be \"service_account\"") }
        let email = try field("client_email") ?? ""
        guard email.contains("@"), !email.contains(where: \.isWhitespace) else { throw .init(field: "client_email", problem: "must be an email address") }
        let privateKey = try field("private_key") ?? ""
        guard privateKey.contains("-----BEGIN"), privateKey.contains("PRIVATE KEY-----") else {
            throw .init(field: "private_key", problem: "not an RSA private key in PEM form")
        }
        let tokenURI = try field("token_uri") ?? ""
        if let problem = Self.tokenURIProblem(tokenURI) { throw .init(field: "token_uri", problem: problem) }
        var account = GoogleServiceAccount(
            clientEmail: email, privateKeyID: try field("private_key_id") ?? "", privateKey: Secret(privateKey), tokenURI: tokenURI,
            projectID: try field("project_id", required: false))
        account.project = try field("project", required: false).flatMap { $0.isEmpty ? nil : $0 }
        account.region = try field("region", required: false).flatMap { $0.isEmpty ? nil : $0 }
        if let region = account.region, let problem = VertexLocation.regionProblem(region) { throw .init(field: "region", problem: problem) }
        if let project = account.project, let problem = VertexLocation.projectProblem(project) { throw .init(field: "project", problem: problem) }
        return account
    }

    /// Parses and also loads the private key, as storing a key does: a key that cannot sign is refused then, not on the first call.
    public static func parseChecked(_ text: Secret) throws(GoogleServiceAccountError) -> GoogleServiceAccount {
        let account = try parse(text)
        _ = try account.signingKey()
        return account
    }

    /// Why `text` may not be the token endpoint, or nil.
    ///
    /// The file says where the gateway posts its signed assertion. Only https, or http to loopback (the tests' fake):
    /// an uploaded file must not turn the gateway into a client of the internal network (SSRF), nor send an assertion,
    /// good for an hour at Google, in clear text where anyone on the path can replay it.
    package static func tokenURIProblem(_ text: String) -> String? {
        if let problem = EndpointURL.problem(text) { return problem }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased() else {
            return "must be an absolute https URL"
        }
        if scheme == "https" { return nil }
        return ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) ? nil : "must use https (http only to a loopback address)"
    }

    /// The RSA key, loaded only to sign.
    package func signingKey() throws(GoogleServiceAccountError) -> _RSA.Signing.PrivateKey {
        do {
            return try _RSA.Signing.PrivateKey(pemRepresentation: privateKey.reveal)
        } catch {
            throw .init(field: "private_key", problem: "not an RSA private key in PEM form")
        }
    }

    /// Names the credential in the token cache: a hash of who it is, never the key itself.
    package var identity: String {
        let digest = SHA256.hash(data: Data("\(clientEmail)\n\(privateKeyID)\n\(tokenURI)".utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The text stored in the vault: the members the gateway reads, compact, nothing else from the upload.
    public var storedText: Secret {
        var object: [String: JSONValue] = [
            "type": .string("service_account"), "client_email": .string(clientEmail), "private_key_id": .string(privateKeyID),
            "private_key": .string(privateKey.reveal), "token_uri": .string(tokenURI),
        ]
        if let projectID { object["project_id"] = .string(projectID) }
        if let project { object["project"] = .string(project) }
        if let region { object["region"] = .string(region) }
        let data = (try? ProviderJSON.sortedEncoder().encode(object)) ?? Data()
        return Secret(String(decoding: data, as: UTF8.self))
    }

    package init(clientEmail: String, privateKeyID: String, privateKey: Secret, tokenURI: String, projectID: String?) {
        self.clientEmail = clientEmail
        self.privateKeyID = privateKeyID
        self.privateKey = privateKey
        self.tokenURI = tokenURI
        self.projectID = projectID
    }
}

/// A service-account file that cannot be used: names the field and the problem, never the value.
public struct GoogleServiceAccountError: Error, Sendable, CustomStringConvertible {
    /// The JSON member at fault (`private_key`, `token_uri`, ...), nil for the file as a whole.
    public var field: String?
    public var problem: String

    public var description: String { field.map { "\($0): \(problem)" } ?? problem }
}
