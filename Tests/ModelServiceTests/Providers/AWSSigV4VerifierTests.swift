import Foundation
import Testing

@testable import ModelServiceCore

@Suite("AWS SigV4 verifier (fake Bedrock side)")
struct AWSSigV4VerifierTests {
    static let credentials = AWSCredentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: suiteSecret, sessionToken: "SESSION-TOKEN-123")
    static let signedAt = Date(timeIntervalSince1970: 1_714_564_800)
    static let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    static let body = Array(#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}"#.utf8)

    /// The request as the fake server receives it: the client's headers plus the signer's.
    static func signedRequestHeaders(addsContentSHA256: Bool = false) throws -> [(String, String)] {
        let url = try #require(URL(string: "https://bedrock-runtime.us-east-1.amazonaws.com" + path))
        let signer = AWSSigV4Signer(credentials: credentials, region: "us-east-1", service: "bedrock")
        var headers = [("Content-Type", "application/json"), ("Accept", "application/vnd.amazon.eventstream")]
        let added = try signer.signatureHeaders(
            method: "POST", url: url, headers: headers, payload: .bytes(body), date: signedAt,
            addsContentSHA256Header: addsContentSHA256)
        headers.append(("Host", "bedrock-runtime.us-east-1.amazonaws.com"))
        headers.append(("User-Agent", "client-after-signing/1.0"))  // unsigned headers may be added freely
        return headers + added.map { ($0.name, $0.value) }
    }

    let verifier = AWSSigV4Verifier(
        credentials: credentials, expectedRegion: "us-east-1", expectedService: "bedrock")

    @Test func acceptsASignedRequest() throws {
        for addsHash in [false, true] {
            let headers = try Self.signedRequestHeaders(addsContentSHA256: addsHash)
            let result = verifier.verify(
                method: "POST", path: Self.path, query: nil, headers: headers, body: Self.body,
                now: Self.signedAt.addingTimeInterval(60))
            #expect(result == .valid)
        }
    }

    @Test func rejectsAChangedBody() throws {
        var body = Self.body
        body[body.count - 3] = UInt8(ascii: "X")
        let result = verifier.verify(
            method: "POST", path: Self.path, query: nil, headers: try Self.signedRequestHeaders(), body: body)
        guard case .invalid(let reason) = result else { Issue.record("tampered body accepted"); return }
        #expect(reason.contains("signature does not match"))
        #expect(!reason.contains(suiteSecret))
        #expect(!reason.contains("SESSION-TOKEN-123"))

        let hashed = verifier.verify(
            method: "POST", path: Self.path, query: nil,
            headers: try Self.signedRequestHeaders(addsContentSHA256: true), body: body)
        #expect(hashed != .valid)
    }

    @Test func rejectsAChangedSignedHeaderPathOrMethod() throws {
        let headers = try Self.signedRequestHeaders()
        let changedHeader = headers.map { $0.0 == "Content-Type" ? ($0.0, "text/plain") : $0 }
        #expect(!verifier.verify(method: "POST", path: Self.path, query: nil, headers: changedHeader, body: Self.body)
            .isValid)
        #expect(!verifier.verify(method: "PUT", path: Self.path, query: nil, headers: headers, body: Self.body).isValid)
        #expect(!verifier.verify(
            method: "POST", path: Self.path.replacingOccurrences(of: "%3A", with: ":"), query: nil, headers: headers,
            body: Self.body).isValid)
        #expect(!verifier.verify(method: "POST", path: Self.path, query: "a=b", headers: headers, body: Self.body)
            .isValid)
    }

    @Test func rejectsWrongSecretTokenOrKey() throws {
        let headers = try Self.signedRequestHeaders()
        let otherSecret = AWSSigV4Verifier(credentials: .init(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "another-secret", sessionToken: "SESSION-TOKEN-123"))
        #expect(!otherSecret.verify(method: "POST", path: Self.path, query: nil, headers: headers, body: Self.body)
            .isValid)
        let otherToken = AWSSigV4Verifier(credentials: .init(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: suiteSecret, sessionToken: "OTHER"))
        #expect(otherToken.verify(method: "POST", path: Self.path, query: nil, headers: headers, body: Self.body)
            == .invalid(reason: "X-Amz-Security-Token does not match"))
        let otherKey = AWSSigV4Verifier(credentials: .init(accessKeyId: "AKIDOTHER", secretAccessKey: suiteSecret))
        #expect(otherKey.verify(method: "POST", path: Self.path, query: nil, headers: headers, body: Self.body)
            == .invalid(reason: "unknown access key id 'AKIDEXAMPLE'"))
        let wrongRegion = AWSSigV4Verifier(credentials: Self.credentials, expectedRegion: "eu-west-1")
        #expect(!wrongRegion.verify(method: "POST", path: Self.path, query: nil, headers: headers, body: Self.body)
            .isValid)
    }

    @Test func rejectsStaleMissingOrMalformedAuthorization() throws {
        let headers = try Self.signedRequestHeaders()
        #expect(!verifier.verify(
            method: "POST", path: Self.path, query: nil, headers: headers, body: Self.body,
            now: Self.signedAt.addingTimeInterval(16 * 60)).isValid)
        let withoutAuthorization = headers.filter { $0.0 != "Authorization" }
        #expect(!verifier.verify(
            method: "POST", path: Self.path, query: nil, headers: withoutAuthorization, body: Self.body).isValid)
        for garbage in ["Bearer x", "AWS4-HMAC-SHA256 Credential=a/b", "AWS4-HMAC-SHA256 ,,,=", "AWS4-HMAC-SHA256 "] {
            let forged = withoutAuthorization + [("Authorization", garbage)]
            #expect(!verifier.verify(method: "POST", path: Self.path, query: nil, headers: forged, body: Self.body)
                .isValid)
        }
    }

    @Test func constantTimeCompare() {
        #expect(AWSSigV4Verifier.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!AWSSigV4Verifier.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!AWSSigV4Verifier.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}
