import Foundation
import Testing

@testable import ModelService
@testable import ModelServiceCore

/// The one secret a Bedrock key is stored as, how requests carry it, and how it is shown and scrubbed.
@Suite struct BedrockCredentialTests {
    static let pair = BedrockCredential.secret(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: "IQoJb3JpZ2luTOKEN")

    @Test func aKeyPairAndAnAPIKeyAreToldApartByShape() throws {
        guard case .keyPair(let credentials) = BedrockCredential(Self.pair) else { Issue.record("not a key pair"); return }
        #expect(credentials.accessKeyId == "AKIAIOSFODNN7EXAMPLE" && credentials.sessionToken == "IQoJb3JpZ2luTOKEN")
        guard case .apiKey(let token) = BedrockCredential(Secret("ABSKQmVkcm9jaw==")) else { Issue.record("not an API key"); return }
        #expect(token == "ABSKQmVkcm9jaw==")
        // JSON without the two fields is not a pair; an empty secret is no credential.
        guard case .apiKey = BedrockCredential(Secret(#"{"accessKeyId":"AKIA"}"#)) else { Issue.record("half a pair read as a pair"); return }
        #expect(BedrockCredential(Secret("")) == nil && BedrockCredential(nil) == nil)
        #expect(BedrockCredential.keyPair(in: BedrockCredential.secret(accessKeyId: "A", secretAccessKey: "B", sessionToken: "").reveal)?.sessionToken == nil)
    }

    @Test func aKeyPairSignsAndAnAPIKeyIsABearer() throws {
        var target = UpstreamTarget(
            provider: .bedrock, upstreamModel: "amazon.nova-lite-v1:0", baseURL: "https://bedrock-runtime.eu-west-1.amazonaws.com", apiKey: Self.pair)
        let url = BedrockAdapter.url(for: target, action: "converse")
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let signed = try BedrockAdapter.authorization(method: "POST", url: url, contentType: "application/json", body: Array("{}".utf8), target: target, date: date)
        let names = signed.map { $0.0.lowercased() }
        #expect(names == ["x-amz-date", "x-amz-security-token", "authorization"])
        let authorization = try #require(signed.first { $0.0 == "Authorization" }?.1)
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20231114/eu-west-1/bedrock/aws4_request"))
        #expect(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"))
        #expect(!authorization.contains("wJalrXUtnFEMI"))

        // The verifier (the fake's side) accepts exactly what was signed, on the escaped wire path.
        let credentials = try #require(BedrockCredential.keyPair(in: Self.pair.reveal))
        let verifier = AWSSigV4Verifier(credentials: credentials, expectedRegion: "eu-west-1", expectedService: "bedrock")
        let headers = [("host", "bedrock-runtime.eu-west-1.amazonaws.com"), ("content-type", "application/json")] + signed
        let path = "/model/amazon.nova-lite-v1%3A0/converse"
        #expect(verifier.verify(method: "POST", path: path, query: nil, headers: headers, body: Array("{}".utf8)) == .valid)
        #expect(!verifier.verify(method: "POST", path: path, query: nil, headers: headers, body: Array("{ }".utf8)).isValid)

        target.apiKey = Secret("ABSKQmVkcm9jaw==")
        let bearer = try BedrockAdapter.authorization(method: "POST", url: url, contentType: "application/json", body: [], target: target)
        #expect(bearer.count == 1 && bearer[0] == ("authorization", "Bearer ABSKQmVkcm9jaw=="))
        target.apiKey = nil
        #expect(try BedrockAdapter.authorization(method: "POST", url: url, contentType: nil, body: [], target: target).isEmpty)
    }

    @Test func maskingShowsOnlyTheAccessKeyIdsLastFour() {
        #expect(KeyMasking.maskedPrefix(Self.pair) == "********MPLE")
        #expect(KeyMasking.maskedPrefix(Secret("ABSKQmVkcm9ja0FQSUtleS0xMjM0")) == "ABSKQmV********MjM0")
    }

    @Test func scrubbingRemovesTheSecretKeyAndTheToken() {
        let text = "echo: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and IQoJb3JpZ2luTOKEN for AKIAIOSFODNN7EXAMPLE"
        let scrubbed = ProviderError.scrub(text, apiKey: Self.pair)
        #expect(scrubbed == "echo: <redacted> and <redacted> for AKIAIOSFODNN7EXAMPLE")
    }

    @Test func theKeyInputNamesTheFieldAndNeverTheValue() throws {
        let input = try BedrockKeyInput(
            accessKeyId: " AKIAIOSFODNN7EXAMPLE ", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"), sessionToken: Secret(""),
            apiKey: nil, region: "eu-west-1")
        #expect(input.region == "eu-west-1")
        #expect(BedrockCredential.keyPair(in: input.secret.reveal) == AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        let cases: [(String?, String?, String?, String?, String?, String)] = [
            (nil, nil, nil, nil, nil, "accessKeyId"),
            ("AKIAIOSFODNN7EXAMPLE", nil, nil, nil, nil, "secretAccessKey"),
            (nil, "secret with space", nil, nil, nil, "accessKeyId"),
            ("short", "s3cr3t-value", nil, nil, nil, "accessKeyId"),
            ("AKIAIOSFODNN7EXAMPLE", "s3cr3t value", nil, nil, nil, "secretAccessKey"),
            ("AKIAIOSFODNN7EXAMPLE", "s3cr3t-value", "tok en", nil, nil, "sessionToken"),
            ("AKIAIOSFODNN7EXAMPLE", "s3cr3t-value", nil, "ABSK-key", nil, "apiKey"),
            (nil, nil, nil, "ABSK-key", "eu-west-1.evil.com", "region"),
        ]
        for (id, secret, token, apiKey, region, field) in cases {
            let error = try #require(throws: ServiceError.self) {
                try BedrockKeyInput(accessKeyId: id, secretAccessKey: secret.map(Secret.init), sessionToken: token.map(Secret.init), apiKey: apiKey.map(Secret.init), region: region)
            }
            #expect(error.field == field, "\(field): \(error.message)")
            for value in [secret, token, apiKey].compactMap({ $0 }) { #expect(!error.message.contains(value)) }
        }
    }
}
