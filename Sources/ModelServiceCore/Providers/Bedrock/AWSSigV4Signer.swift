import Crypto
import Foundation

/// Why a request could not be signed. Messages never carry key material.
package enum AWSSigV4Error: Error, Equatable, CustomStringConvertible {
    /// The signing date is not finite or lies outside years 1...9999.
    case dateOutOfRange
    /// Neither the headers nor the URL name the host, which SigV4 always signs.
    case missingHost
    /// A precomputed payload hash that is neither 64 hex digits nor `UNSIGNED-PAYLOAD`.
    case invalidPayloadHash

    package var description: String {
        switch self {
        case .dateOutOfRange: "SigV4: the signing date is outside years 1...9999"
        case .missingHost: "SigV4: the request has no host to sign (no Host header and no host in the URL)"
        case .invalidPayloadHash: "SigV4: the payload hash must be 64 hex digits or UNSIGNED-PAYLOAD"
        }
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) header signing, as the gateway needs it for Bedrock.
///
/// Paths: the signer takes the path as it goes on the wire (already percent-encoded, e.g. a Bedrock model id's
/// `:` sent as `%3A`) and URI-encodes it once more for the canonical URI (`%253A`), after removing dot segments
/// and empty segments. That is the spec's "encode twice" rule for every service but S3, and what botocore and the
/// AWS CRT do; the aws-sig-v4-test-suite vectors put raw characters on their request lines (`/example space/`),
/// so one encoding of that line gives their canonical URIs. S3 signs the wire path as it is: `.s3`.
package struct AWSSigV4Signer: Sendable {
    /// How the wire path becomes the canonical URI.
    package struct PathCanonicalization: Sendable, Equatable {
        /// Remove `.`/`..` and empty segments (RFC 3986 `remove_dot_segments`).
        package var removesDotAndEmptySegments: Bool
        /// URI-encode the already-encoded wire path once more (every service but S3).
        package var encodesWirePathAgain: Bool

        package static let standard = PathCanonicalization(removesDotAndEmptySegments: true, encodesWirePathAgain: true)
        package static let s3 = PathCanonicalization(removesDotAndEmptySegments: false, encodesWirePathAgain: false)
    }

    /// The body, or its SHA-256 when the caller streams it or has hashed it already.
    package enum Payload: Sendable, Equatable {
        case bytes([UInt8])
        /// Lowercase hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        case sha256Hex(String)
    }

    package static let algorithm = "AWS4-HMAC-SHA256"
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Headers a proxy or the HTTP client may add, drop or rewrite after signing; signing them breaks requests.
    static let headersNeverSigned: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]
    /// Headers this signer sets itself; a caller's copy is replaced (its `x-amz-content-sha256` only when the
    /// signer adds one; otherwise it is signed as given, since AWS wants every `x-amz-*` header signed).
    static let headersSetBySigner: Set<String> = ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]

    package let credentials: AWSCredentials
    package let region: String
    package let service: String
    package let pathCanonicalization: PathCanonicalization

    package init(
        credentials: AWSCredentials, region: String, service: String,
        pathCanonicalization: PathCanonicalization = .standard
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathCanonicalization = pathCanonicalization
    }

    /// The headers to add to a request for `url`: `X-Amz-Date`, `X-Amz-Security-Token` (with a session token),
    /// `X-Amz-Content-Sha256` (when `addsContentSHA256Header`) and `Authorization`. The request must then be sent
    /// with exactly `headers` plus these, and with `url`'s percent-encoded path and query unchanged.
    /// `Host` is signed from `url` (host, and port unless it is the scheme's default) when `headers` lacks it.
    package func signatureHeaders(
        method: String, url: URL, headers: [(String, String)], payload: Payload, date: Date,
        addsContentSHA256Header: Bool = false
    ) throws(AWSSigV4Error) -> [(name: String, value: String)] {
        var headers = headers
        if !headers.contains(where: { $0.0.lowercased() == "host" }) {
            guard let host = Self.hostHeaderValue(for: url) else { throw .missingHost }
            headers.append(("host", host))
        }
        let path = url.path(percentEncoded: true)
        return try signatureHeaders(
            method: method, path: path.isEmpty ? "/" : path, query: url.query(percentEncoded: true),
            headers: headers, payload: payload, date: date, addsContentSHA256Header: addsContentSHA256Header)
    }

    /// As above, from the request's parts: `path` and `query` as on the wire (percent-encoded, no `?`);
    /// `headers` must include `Host`.
    package func signatureHeaders(
        method: String, path: String, query: String?, headers: [(String, String)], payload: Payload, date: Date,
        addsContentSHA256Header: Bool = false
    ) throws(AWSSigV4Error) -> [(name: String, value: String)] {
        guard let amzDate = AWSTimestamp.format(date) else { throw .dateOutOfRange }
        let payloadHash = try Self.payloadHash(payload)
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        if addsContentSHA256Header { added.append(("X-Amz-Content-Sha256", payloadHash)) }

        let replaced = Self.headersSetBySigner.subtracting(addsContentSHA256Header ? [] : ["x-amz-content-sha256"])
        var signed = headers.filter { name, _ in
            let lowercased = name.lowercased()
            return !Self.headersNeverSigned.contains(lowercased) && !replaced.contains(lowercased)
        }
        guard signed.contains(where: { $0.0.lowercased() == "host" }) else { throw .missingHost }
        signed.append(contentsOf: added.map { ($0.name, $0.value) })

        let canonical = Self.canonicalRequest(
            method: method, path: path, query: query, headers: signed, payloadHash: payloadHash,
            pathCanonicalization: pathCanonicalization)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let signature = Self.signature(
            secretAccessKey: credentials.secretAccessKey, amzDate: amzDate, region: region, service: service,
            canonicalRequest: canonical.text)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        added.append(("Authorization", authorization))
        return added
    }

    // MARK: - The spec's steps, shared with `AWSSigV4Verifier`

    /// Task 1: the canonical request, and the `;`-joined lowercase names of the headers it signs.
    static func canonicalRequest(
        method: String, path: String, query: String?, headers: [(String, String)], payloadHash: String,
        pathCanonicalization: PathCanonicalization
    ) -> (text: String, signedHeaders: String) {
        let (headerBlock, signedHeaders) = canonicalHeaders(headers)
        let text = [
            method, canonicalURI(path, pathCanonicalization), canonicalQueryString(query), headerBlock,
            signedHeaders, payloadHash,
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Tasks 2 and 3: string to sign, then its HMAC with the key derived for `date/region/service`.
    static func signature(
        secretAccessKey: String, amzDate: String, region: String, service: String, canonicalRequest: String
    ) -> String {
        let day = String(amzDate.prefix(8))
        let stringToSign = [
            algorithm, amzDate, "\(day)/\(region)/\(service)/aws4_request", sha256Hex(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {  // kDate, kRegion, kService, kSigning
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    static func payloadHash(_ payload: Payload) throws(AWSSigV4Error) -> String {
        switch payload {
        case .bytes(let body):
            return sha256Hex(body)
        case .sha256Hex(let given):
            if given == unsignedPayload { return given }
            let isHex = given.utf8.allSatisfy { hexValue($0) != nil }
            guard given.utf8.count == 64, isHex else { throw .invalidPayloadHash }
            return given.lowercased()
        }
    }

    /// Dot and empty segments removed (if asked), then every byte but unreserved ones and `/` percent-encoded.
    static func canonicalURI(_ wirePath: String, _ rules: PathCanonicalization) -> String {
        var path = Array(wirePath.utf8)
        if path.first != UInt8(ascii: "/") { path.insert(UInt8(ascii: "/"), at: 0) }
        if rules.removesDotAndEmptySegments {
            var kept: [ArraySlice<UInt8>] = []
            let segments = path.split(separator: UInt8(ascii: "/"))
            for segment in segments {
                if segment.elementsEqual(".".utf8) { continue }
                if segment.elementsEqual("..".utf8) { _ = kept.popLast(); continue }
                kept.append(segment)
            }
            let endsAsDirectory = path.last == UInt8(ascii: "/")
                || segments.last.map { $0.elementsEqual(".".utf8) || $0.elementsEqual("..".utf8) } == true
            path = [UInt8(ascii: "/")] + Array(kept.joined(separator: [UInt8(ascii: "/")]))
            if endsAsDirectory && !kept.isEmpty { path.append(UInt8(ascii: "/")) }
        }
        guard rules.encodesWirePathAgain else { return String(decoding: path, as: UTF8.self) }
        return uriEncode(path, keepingSlash: true)
    }

    /// Pairs percent-decoded then RFC 3986-encoded (so raw and encoded forms agree), sorted by key then value.
    static func canonicalQueryString(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.utf8.split(separator: UInt8(ascii: "&")).map { piece -> (key: String, value: String) in
            guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else {
                return (uriEncode(percentDecode(piece), keepingSlash: false), "")
            }
            let value = piece[piece.index(after: equals)...]
            return (
                uriEncode(percentDecode(piece[..<equals]), keepingSlash: false),
                uriEncode(percentDecode(value), keepingSlash: false)
            )
        }
        return pairs.sorted { left, right in
            left.key != right.key
                ? left.key.utf8.lexicographicallyPrecedes(right.key.utf8)
                : left.value.utf8.lexicographicallyPrecedes(right.value.utf8)
        }
        .map { "\($0.key)=\($0.value)" }
        .joined(separator: "&")
    }

    /// `name:value\n` lines (names lowercased, values trimmed with inner whitespace runs collapsed, repeated
    /// names joined by `,` in arrival order), sorted by name; and the signed-headers list.
    static func canonicalHeaders(_ headers: [(String, String)]) -> (block: String, signedHeaders: String) {
        var valuesByName: [String: [String]] = [:]
        for (name, value) in headers {
            valuesByName[name.lowercased(), default: []].append(collapsingWhitespace(value))
        }
        let names = valuesByName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var block = ""
        for name in names { block += "\(name):\(valuesByName[name, default: []].joined(separator: ","))\n" }
        return (block, names.joined(separator: ";"))
    }

    static func collapsingWhitespace(_ value: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace { output.append(0x20); pendingSpace = false }
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func hostHeaderValue(for url: URL) -> String? {
        guard let host = url.host(percentEncoded: false), !host.isEmpty else { return nil }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let defaultPort = url.scheme?.lowercased() == "http" ? 80 : 443
        guard let port = url.port, port != defaultPort else { return bracketed }
        return "\(bracketed):\(port)"
    }
}
