import Crypto
import CryptoExtras
import FakeProviders
import Foundation
import Testing

@testable import ModelServiceCore

/// The service-account key file and the RS256 assertion made from it: signed with the account's key, the claims
/// Google checks, and the private key in nothing that prints.
@Suite struct GoogleServiceAccountTests {
    static let tokenURI = "https://oauth2.googleapis.com/token"

    static func account() throws -> (FakeServiceAccount, GoogleServiceAccount) {
        let fake = try #require(FakeServiceAccount.standard)
        return (fake, try GoogleServiceAccount.parseChecked(Secret(fake.json(tokenURI: tokenURI))))
    }

    static func decode(_ part: Substring) throws -> [String: Any] {
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let data = try #require(Data(base64Encoded: base64))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func theAssertionIsSignedWithTheAccountsKeyAndCarriesGooglesClaims() throws {
        let (fake, account) = try Self.account()
        let jwt = try GoogleJWT.assertion(for: account, issuedAt: 1_700_000_000)
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3)
        let header = try Self.decode(parts[0])
        #expect(header["alg"] as? String == "RS256" && header["typ"] as? String == "JWT" && header["kid"] as? String == fake.privateKeyID)
        let claims = try Self.decode(parts[1])
        #expect(claims["iss"] as? String == fake.clientEmail)
        #expect(claims["scope"] as? String == "https://www.googleapis.com/auth/cloud-platform")
        #expect(claims["aud"] as? String == Self.tokenURI)
        #expect(claims["iat"] as? Int == 1_700_000_000 && claims["exp"] as? Int == 1_700_003_600)

        var base64 = parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Data(base64Encoded: base64)))
        let signed = Data("\(parts[0]).\(parts[1])".utf8)
        #expect(fake.publicKey.isValidSignature(signature, for: signed, padding: .insecurePKCS1v1_5))
        // Another key's public half does not verify it, and a changed claim breaks it.
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(!other.publicKey.isValidSignature(signature, for: signed, padding: .insecurePKCS1v1_5))
        #expect(!fake.publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])x".utf8), padding: .insecurePKCS1v1_5))
    }

    @Test func thePrivateKeyNeverPrints() throws {
        let (fake, account) = try Self.account()
        let printed = [
            String(describing: account), String(reflecting: account), "\(account)", String(describing: account.privateKey),
            String(describing: Mirror(reflecting: account).children.map { "\($0.label ?? ""): \($0.value)" }),
        ]
        for text in printed {
            for line in fake.privateKeyLines { #expect(!text.contains(line)) }
        }
        #expect(printed[0].contains(fake.clientEmail))
        #expect(KeyMasking.maskedPrefix(account.storedText) == fake.clientEmail)
    }

    @Test func badFilesAreRefusedNamingTheFieldAndNeverTheValue() throws {
        let (fake, _) = try Self.account()
        let good = try #require(try JSONSerialization.jsonObject(with: Data(fake.json(tokenURI: Self.tokenURI).utf8)) as? [String: Any])
        func refusal(_ change: (inout [String: Any]) -> Void) throws -> GoogleServiceAccountError? {
            var object = good
            change(&object)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            do {
                _ = try GoogleServiceAccount.parseChecked(Secret(text))
                return nil
            } catch {
                return error
            }
        }
        let pem = try #require(good["private_key"] as? String)
        let garbled = pem.replacingOccurrences(of: fake.privateKeyLines[3], with: String(repeating: "A", count: fake.privateKeyLines[3].count))
        let cases: [(String, String, (inout [String: Any]) -> Void)] = [
            ("private_key", "not an RSA private key in PEM form", { $0["private_key"] = garbled }),
            ("private_key", "not an RSA private key in PEM form", { $0["private_key"] = "secret-not-a-pem" }),
            ("client_email", "is required", { $0["client_email"] = nil }),
            ("type", "must be \"service_account\"", { $0["type"] = "authorized_user" }),
            ("token_uri", "must use https (http only to a loopback address)", { $0["token_uri"] = "http://169.254.169.254/token" }),
            ("token_uri", "must use http or https, not file", { $0["token_uri"] = "file:///etc/passwd" }),
            ("private_key_id", "must be a string", { $0["private_key_id"] = 7 }),
        ]
        for (field, problem, change) in cases {
            let error = try #require(try refusal(change), "\(field)")
            #expect(error.field == field && error.problem == problem, "\(error)")
            for line in fake.privateKeyLines { #expect(!error.description.contains(line)) }
            #expect(!error.description.contains("secret-not-a-pem"))
        }
        #expect(try refusal { $0["token_uri"] = "http://127.0.0.1:9/vertex/token" } == nil)
        #expect(throws: GoogleServiceAccountError.self) { try GoogleServiceAccount.parse(Secret(String(repeating: " ", count: 70_000) + "{}")) }
        #expect(throws: GoogleServiceAccountError.self) { try GoogleServiceAccount.parse(Secret("sk-not-json")) }
    }

    @Test func theEnvironmentFileIsReadIntoTheTextVariableWithASizeLimit() throws {
        let (fake, _) = try Self.account()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vertex-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("sa.json")
        try Data(fake.json(tokenURI: Self.tokenURI).utf8).write(to: file)
        let environment = try GoogleCredentialsFile.environment(["GOOGLE_APPLICATION_CREDENTIALS": file.path])
        #expect(environment["VERTEX_SERVICE_ACCOUNT_JSON"] == fake.json(tokenURI: Self.tokenURI))
        // The text variable wins over the file.
        #expect(try GoogleCredentialsFile.environment(["GOOGLE_APPLICATION_CREDENTIALS": file.path, "VERTEX_SERVICE_ACCOUNT_JSON": "{}"])["VERTEX_SERVICE_ACCOUNT_JSON"] == "{}")
        let big = directory.appendingPathComponent("big.json")
        try Data(repeating: 0x20, count: 70_000).write(to: big)
        #expect(throws: ConfigurationError.self) { try GoogleCredentialsFile.environment(["GOOGLE_APPLICATION_CREDENTIALS": big.path]) }
        #expect(throws: ConfigurationError.self) { try GoogleCredentialsFile.environment(["GOOGLE_APPLICATION_CREDENTIALS": directory.appendingPathComponent("none").path]) }
    }

    @Test func theLocationFollowsSettingsThenKeyThenFile() throws {
        var (_, account) = try Self.account()
        let target = UpstreamTarget(provider: .vertex, upstreamModel: "gemini-2.5-pro", baseURL: ProviderKind.vertex.defaultBaseURL, apiKey: nil)
        let plain = try VertexLocation(target: target, account: account)
        #expect(plain.modelsURL == "https://us-central1-aiplatform.googleapis.com/v1/projects/fake-project/locations/us-central1/publishers/google/models")
        account.project = "key-project"
        account.region = "europe-west4"
        var claude = target
        claude.upstreamModel = "claude-sonnet-4@20250514"
        let fromKey = try VertexLocation(target: claude, account: account)
        #expect(fromKey.url(model: claude.upstreamModel, method: "rawPredict")
            == "https://europe-west4-aiplatform.googleapis.com/v1/projects/key-project/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict")
        claude.settings = ["project": .string("model-project"), "region": .string("global"), "publisher": .string("google")]
        let fromModel = try VertexLocation(target: claude, account: account)
        #expect(fromModel.modelsURL == "https://aiplatform.googleapis.com/v1/projects/model-project/locations/global/publishers/google/models")
        claude.settings = ["region": .string("evil.example.com/x")]
        #expect(throws: ProviderError.self) { try VertexLocation(target: claude, account: account) }
    }
}
