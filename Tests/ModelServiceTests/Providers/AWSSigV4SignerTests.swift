import Foundation
import Testing

@testable import ModelServiceCore

/// One case of AWS's SigV4 test suite, as vendored by awslabs/aws-c-auth under
/// `tests/aws-signing-test-suite/v4/<name>/` (request.txt, context.json, header-signed-request.txt).
struct SuiteVector: Sendable, CustomTestStringConvertible {
    let name: String
    var method = "GET"
    var path = "/"
    var query: String? = nil
    var headers: [(String, String)] = [("Host", "example.amazonaws.com")]
    var body: [UInt8] = []
    var signsBody = false
    var sessionToken: String? = nil
    var normalizesPath = true
    let signature: String
    var signedHeaders = "host;x-amz-date"

    var testDescription: String { name }

    var authorization: String {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }
}

let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
let suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
private let formHeaders = [
    ("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"), ("Content-Length", "13"),
]
private let formSignedHeaders = "content-length;content-type;host;x-amz-content-sha256;x-amz-date"

let suiteVectors: [SuiteVector] = [
    .init(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    .init(name: "get-vanilla-query-order-key-case", query: "Param2=value2&Param1=value1",
          signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    .init(name: "get-vanilla-query-order-encoded", query: "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
          signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"),
    .init(name: "get-vanilla-utf8-query", query: "ሴ=bar",
          signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    .init(name: "get-vanilla-query-unreserved",
          query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
          signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    .init(name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
          signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
    .init(name: "get-utf8", path: "/ሴ", signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    .init(name: "get-space-normalized", path: "/example space/",
          signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    .init(name: "get-slashes-normalized", path: "//example//",
          signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    .init(name: "get-slashes-unnormalized", path: "//example//", normalizesPath: false,
          signature: "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"),
    .init(name: "get-relative-relative-normalized", path: "/example1/example2/../..",
          signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    .init(name: "get-slash-pointless-dot-normalized", path: "/./example",
          signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
    .init(name: "get-header-value-trim",
          headers: [("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
          signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
          signedHeaders: "host;my-header1;my-header2;x-amz-date"),
    .init(name: "get-header-value-multiline",
          headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value1\n  value2\n     value3")],
          signature: "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
          signedHeaders: "host;my-header1;x-amz-date"),
    .init(name: "get-header-key-duplicate",
          headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value2"), ("My-Header1", "value2"),
                    ("My-Header1", "value1")],
          signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
          signedHeaders: "host;my-header1;x-amz-date"),
    .init(name: "get-header-value-order",
          headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value4"), ("My-Header1", "value1"),
                    ("My-Header1", "value3"), ("My-Header1", "value2")],
          signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
          signedHeaders: "host;my-header1;x-amz-date"),
    .init(name: "get-vanilla-with-session-token",
          sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
          signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
          signedHeaders: "host;x-amz-date;x-amz-security-token"),
    .init(name: "post-vanilla", method: "POST",
          signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    .init(name: "post-vanilla-query", method: "POST", query: "Param1=value1",
          signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    .init(name: "post-header-key-sort", method: "POST",
          headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value1")],
          signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
          signedHeaders: "host;my-header1;x-amz-date"),
    .init(name: "post-header-value-case", method: "POST",
          headers: [("Host", "example.amazonaws.com"), ("My-Header1", "VALUE1")],
          signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
          signedHeaders: "host;my-header1;x-amz-date"),
    .init(name: "post-x-www-form-urlencoded", method: "POST", headers: formHeaders,
          body: Array("Param1=value1".utf8), signsBody: true,
          signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
          signedHeaders: formSignedHeaders),
    .init(name: "post-x-www-form-urlencoded-parameters", method: "POST",
          headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                    ("Host", "example.amazonaws.com"), ("Content-Length", "13")],
          body: Array("Param1=value1".utf8), signsBody: true,
          signature: "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422",
          signedHeaders: formSignedHeaders),
]

extension SuiteVector {
    var credentials: AWSCredentials {
        AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: suiteSecret, sessionToken: sessionToken)
    }
    var pathRules: AWSSigV4Signer.PathCanonicalization {
        normalizesPath ? .standard : .init(removesDotAndEmptySegments: false, encodesWirePathAgain: true)
    }

    func sign() throws -> [(name: String, value: String)] {
        let signer = AWSSigV4Signer(
            credentials: credentials, region: "us-east-1", service: "service", pathCanonicalization: pathRules)
        return try signer.signatureHeaders(
            method: method, path: path, query: query, headers: headers, payload: .bytes(body), date: suiteDate,
            addsContentSHA256Header: signsBody)
    }
}

private func value(_ name: String, in headers: [(name: String, value: String)]) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
}

@Suite("AWS SigV4 signer")
struct AWSSigV4SignerTests {
    @Test("aws-sig-v4-test-suite: exact Authorization header", arguments: suiteVectors)
    func suiteVector(_ vector: SuiteVector) throws {
        let added = try vector.sign()
        #expect(value("Authorization", in: added) == vector.authorization)
        #expect(value("X-Amz-Date", in: added) == "20150830T123600Z")
        #expect(value("X-Amz-Security-Token", in: added) == vector.sessionToken)
        #expect((value("X-Amz-Content-Sha256", in: added) != nil) == vector.signsBody)
    }

    @Test("aws-sig-v4-test-suite: the verifier accepts AWS's own signed requests", arguments: suiteVectors)
    func verifierAcceptsSuiteVector(_ vector: SuiteVector) {
        var headers = vector.headers + [("X-Amz-Date", "20150830T123600Z"), ("Authorization", vector.authorization)]
        if let token = vector.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        if vector.signsBody { headers.append(("x-amz-content-sha256", AWSSigV4Signer.sha256Hex(vector.body))) }
        let verifier = AWSSigV4Verifier(credentials: vector.credentials, pathCanonicalization: vector.pathRules)
        let result = verifier.verify(
            method: vector.method, path: vector.path, query: vector.query, headers: headers, body: vector.body)
        #expect(result == .valid)
    }

    @Test("canonical request matches header-canonical-request.txt of get-header-value-trim")
    func canonicalRequestText() {
        let canonical = AWSSigV4Signer.canonicalRequest(
            method: "GET", path: "/", query: nil,
            headers: [("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""),
                      ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: AWSSigV4Signer.sha256Hex([]), pathCanonicalization: .standard)
        #expect(canonical.text == """
            GET
            /

            host:example.amazonaws.com
            my-header1:value1
            my-header2:"a b c"
            x-amz-date:20150830T123600Z

            host;my-header1;my-header2;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
    }

    /// Reference values from botocore 1.43.11 `SigV4Auth(creds, "bedrock", "us-east-1").add_auth(...)` at
    /// 2024-05-01T12:00:00Z on the URL boto3 itself builds for `converse` (model id's ':' sent as %3A).
    @Test("Bedrock Converse request signs exactly like botocore", arguments: [
        (nil, "accept;content-type;host;x-amz-date",
         "bb043ae79539705b0ebf86ceb93e5c8e9c1370890344e66ea6c8aef8a5797e94"),
        ("FQoGZXIvYXdzEXAMPLESESSIONTOKEN", "accept;content-type;host;x-amz-date;x-amz-security-token",
         "38dd61ea837c4cd276a72e24915a3600a8747ba2a72f44a3bb8cc3b83e6c4dab"),
    ] as [(String?, String, String)])
    func bedrockMatchesBotocore(token: String?, signedHeaders: String, signature: String) throws {
        let url = try #require(URL(string:
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"))
        let signer = AWSSigV4Signer(
            credentials: .init(accessKeyId: "AKIDEXAMPLE", secretAccessKey: suiteSecret, sessionToken: token),
            region: "us-east-1", service: "bedrock")
        let added = try signer.signatureHeaders(
            method: "POST", url: url,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json"), ("User-Agent", "gw/1")],
            payload: .bytes(Array(#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#.utf8)),
            date: Date(timeIntervalSince1970: 1_714_564_800))
        #expect(value("Authorization", in: added) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/"
            + "bedrock/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(signature)")
        #expect(value("X-Amz-Security-Token", in: added) == token)
        #expect(AWSSigV4Signer.canonicalURI(url.path(percentEncoded: true), .standard)
            == "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse")
    }

    @Test("canonical URI: wire path encoded once more; S3 rules keep it as sent")
    func canonicalURIRules() {
        #expect(AWSSigV4Signer.canonicalURI("/model/a.b-v1:0/converse", .standard) == "/model/a.b-v1%3A0/converse")
        #expect(AWSSigV4Signer.canonicalURI("/model/a.b-v1%3A0/converse", .standard) == "/model/a.b-v1%253A0/converse")
        #expect(AWSSigV4Signer.canonicalURI("/a/b/%3A/./../c//", .s3) == "/a/b/%3A/./../c//")
        #expect(AWSSigV4Signer.canonicalURI("", .standard) == "/")
        #expect(AWSSigV4Signer.canonicalURI("/a/b/.", .standard) == "/a/b/")
        #expect(AWSSigV4Signer.canonicalURI("/../..", .standard) == "/")
    }

    /// Must agree with AsyncHTTPClient's `addHostIfNeeded`: the port only when it is not the scheme's default.
    @Test("Host is signed from the URL as the HTTP client will send it")
    func hostFromURL() throws {
        func host(_ text: String) throws -> String? { AWSSigV4Signer.hostHeaderValue(for: try #require(URL(string: text))) }
        #expect(try host("http://127.0.0.1:8080/model/x/converse") == "127.0.0.1:8080")
        #expect(try host("https://bedrock-runtime.us-east-1.amazonaws.com:443/x") == "bedrock-runtime.us-east-1.amazonaws.com")
        #expect(try host("http://localhost:80/") == "localhost")
        #expect(try host("https://example.com:8443") == "example.com:8443")
    }

    @Test("timestamps format and parse in UTC without DateFormatter")
    func timestamps() throws {
        #expect(AWSTimestamp.format(suiteDate) == "20150830T123600Z")
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: 1_709_251_199.9)) == "20240229T235959Z")
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: -1)) == "19691231T235959Z")
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(AWSTimestamp.parse("20150830T123600Z") == suiteDate)
        #expect(AWSTimestamp.parse("20230229T000000Z") == nil)
        #expect(AWSTimestamp.parse("2015-08-30T12:36") == nil)
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: 1e15)) == nil)
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: .infinity)) == nil)
        let signer = AWSSigV4Signer(credentials: .init(accessKeyId: "A", secretAccessKey: "S"), region: "r", service: "s")
        #expect(throws: AWSSigV4Error.dateOutOfRange) {
            try signer.signatureHeaders(
                method: "GET", path: "/", query: nil, headers: [("Host", "h")], payload: .bytes([]),
                date: Date(timeIntervalSince1970: .nan))
        }
        #expect(throws: AWSSigV4Error.invalidPayloadHash) {
            try signer.signatureHeaders(
                method: "GET", path: "/", query: nil, headers: [("Host", "h")], payload: .sha256Hex("abc\n"),
                date: suiteDate)
        }
        #expect(throws: AWSSigV4Error.missingHost) {
            try signer.signatureHeaders(
                method: "GET", path: "/", query: nil, headers: [], payload: .bytes([]), date: suiteDate)
        }
    }

    @Test("credentials never print the secret or the token")
    func credentialsRedacted() {
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: suiteSecret, sessionToken: "TOKEN-SECRET-VALUE")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(reflecting: credentials), credentials.debugDescription, dumped] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains(suiteSecret))
            #expect(!text.contains("TOKEN-SECRET-VALUE"))
            #expect(text.contains("<redacted>"))
        }
    }
}
