import Foundation

/// The outcome of checking a request's SigV4 signature; `reason` says what a client got wrong, never a secret.
package enum AWSSigV4Verification: Sendable, Equatable {
    case valid
    case invalid(reason: String)

    package var isValid: Bool { self == .valid }
}

/// Server-side SigV4 check, for fake AWS endpoints in tests: recomputes the signature of a received request with
/// the known secret, the way AWS does, and says why it does not match (the fake then answers 403 with the reason).
package struct AWSSigV4Verifier: Sendable {
    package let credentials: AWSCredentials
    /// When set, the credential scope must name this region / service.
    package let expectedRegion: String?
    package let expectedService: String?
    /// AWS refuses requests whose `X-Amz-Date` is more than 15 minutes from its clock.
    package let maximumClockSkew: TimeInterval
    package let pathCanonicalization: AWSSigV4Signer.PathCanonicalization

    package init(
        credentials: AWSCredentials, expectedRegion: String? = nil, expectedService: String? = nil,
        maximumClockSkew: TimeInterval = 15 * 60,
        pathCanonicalization: AWSSigV4Signer.PathCanonicalization = .standard
    ) {
        self.credentials = credentials
        self.expectedRegion = expectedRegion
        self.expectedService = expectedService
        self.maximumClockSkew = maximumClockSkew
        self.pathCanonicalization = pathCanonicalization
    }

    /// Checks a received request. `path` and `query` as they arrived on the wire (still percent-encoded, no `?`);
    /// `now`, when given, enables the clock-skew check.
    package func verify(
        method: String, path: String, query: String?, headers: [(String, String)], body: [UInt8], now: Date? = nil
    ) -> AWSSigV4Verification {
        func values(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name }.map(\.1) }

        let authorizations = values("authorization")
        guard authorizations.count == 1, let authorization = authorizations.first else {
            return .invalid(reason: "expected exactly one Authorization header, got \(authorizations.count)")
        }
        let parsed: ParsedAuthorization
        switch ParsedAuthorization.parse(authorization) {
        case .success(let value): parsed = value
        case .failure(let failure): return .invalid(reason: failure.reason)
        }
        guard parsed.accessKeyId == credentials.accessKeyId else {
            return .invalid(reason: "unknown access key id '\(parsed.accessKeyId)'")
        }
        if let expectedRegion, parsed.region != expectedRegion {
            return .invalid(reason: "credential scope region '\(parsed.region)' is not '\(expectedRegion)'")
        }
        if let expectedService, parsed.service != expectedService {
            return .invalid(reason: "credential scope service '\(parsed.service)' is not '\(expectedService)'")
        }

        let dates = values("x-amz-date")
        guard dates.count == 1, let amzDate = dates.first, let signedAt = AWSTimestamp.parse(amzDate) else {
            return .invalid(reason: "expected one X-Amz-Date header in the form yyyyMMddTHHmmssZ")
        }
        guard amzDate.prefix(8) == parsed.day else {
            return .invalid(reason: "credential scope date \(parsed.day) is not the day of X-Amz-Date \(amzDate)")
        }
        if let now, abs(now.timeIntervalSince(signedAt)) > maximumClockSkew {
            return .invalid(reason: "X-Amz-Date \(amzDate) is more than \(Int(maximumClockSkew)) s from the server clock")
        }

        for required in ["host", "x-amz-date"] where !parsed.signedHeaders.contains(required) {
            return .invalid(reason: "SignedHeaders must include '\(required)'")
        }
        let tokens = values("x-amz-security-token")
        switch (credentials.sessionToken, tokens.first) {
        case (nil, nil): break
        case (nil, .some): return .invalid(reason: "X-Amz-Security-Token sent, but these credentials have no token")
        case (.some, nil): return .invalid(reason: "X-Amz-Security-Token missing")
        case (.some(let expected), .some(let received)):
            guard tokens.count == 1, Self.constantTimeEquals(Array(expected.utf8), Array(received.utf8)) else {
                return .invalid(reason: "X-Amz-Security-Token does not match")
            }
            guard parsed.signedHeaders.contains("x-amz-security-token") else {
                return .invalid(reason: "SignedHeaders must include 'x-amz-security-token'")
            }
        }

        var signedHeaders: [(String, String)] = []
        for name in parsed.signedHeaders {
            let received = values(name)
            guard !received.isEmpty else { return .invalid(reason: "signed header '\(name)' is not in the request") }
            signedHeaders.append(contentsOf: received.map { (name, $0) })
        }

        let bodyHash = AWSSigV4Signer.sha256Hex(body)
        var payloadHash = bodyHash
        if let declared = values("x-amz-content-sha256").first {
            if declared == AWSSigV4Signer.unsignedPayload {
                payloadHash = declared
            } else if declared.lowercased() != bodyHash {
                return .invalid(reason: "X-Amz-Content-Sha256 \(declared) is not the SHA-256 of the body (\(bodyHash))")
            }
        }

        let canonical = AWSSigV4Signer.canonicalRequest(
            method: method, path: path, query: query, headers: signedHeaders, payloadHash: payloadHash,
            pathCanonicalization: pathCanonicalization)
        let expected = AWSSigV4Signer.signature(
            secretAccessKey: credentials.secretAccessKey, amzDate: amzDate, region: parsed.region,
            service: parsed.service, canonicalRequest: canonical.text)
        guard Self.constantTimeEquals(Array(expected.utf8), Array(parsed.signature.utf8)) else {
            var shown = canonical.text
            if let token = credentials.sessionToken, !token.isEmpty {
                shown = shown.replacingOccurrences(of: token, with: "<redacted>")
            }
            return .invalid(reason: "signature does not match; the server's canonical request was:\n\(shown)")
        }
        return .valid
    }

    /// Compares every byte whatever the first difference, so timing does not reveal how much of a guess was right.
    static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=a;b, Signature=hex`.
struct ParsedAuthorization {
    struct Failure: Error { let reason: String }

    let accessKeyId: String
    let day: Substring
    let region: String
    let service: String
    let signedHeaders: [String]
    let signature: String

    static func parse(_ header: String) -> Result<ParsedAuthorization, Failure> {
        let prefix = AWSSigV4Signer.algorithm + " "
        guard header.hasPrefix(prefix) else {
            return .failure(Failure(reason: "Authorization must start with '\(prefix)'"))
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst(prefix.count).split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "="),
                  fields.updateValue(String(trimmed[trimmed.index(after: equals)...]), forKey: String(trimmed[..<equals])) == nil
            else { return .failure(Failure(reason: "malformed or repeated Authorization field '\(trimmed)'")) }
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
              let signature = fields["Signature"], fields.count == 3
        else { return .failure(Failure(reason: "Authorization needs exactly Credential, SignedHeaders and Signature")) }

        let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard scope.count == 5, scope[4] == "aws4_request", scope[1].count == 8, !scope[0].isEmpty else {
            return .failure(Failure(reason: "Credential must be AKID/yyyyMMdd/region/service/aws4_request"))
        }
        let names = signedHeaders.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let isSortedLowercaseUnique = names.allSatisfy { !$0.isEmpty && $0 == $0.lowercased() }
            && zip(names, names.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard isSortedLowercaseUnique else {
            return .failure(Failure(reason: "SignedHeaders must be sorted, unique, lowercase names joined by ';'"))
        }
        guard signature.utf8.count == 64, signature.utf8.allSatisfy({ AWSSigV4Signer.hexValue($0) != nil }) else {
            return .failure(Failure(reason: "Signature must be 64 hex digits"))
        }
        return .success(ParsedAuthorization(
            accessKeyId: String(scope[0]), day: scope[1], region: String(scope[2]), service: String(scope[3]),
            signedHeaders: names, signature: signature.lowercased()))
    }
}
