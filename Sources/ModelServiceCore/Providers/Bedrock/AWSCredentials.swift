/// An AWS access key pair, optionally with the session token of temporary (STS) credentials.
///
/// Every textual form (`description`, `debugDescription`, `dump`/`Mirror`) shows the access key id only,
/// so credentials that end up in a log line or an error never reveal the secret or the token.
package struct AWSCredentials: Sendable, Hashable {
    package let accessKeyId: String
    package let secretAccessKey: String
    package let sessionToken: String?

    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package var description: String {
        let token = sessionToken == nil ? "nil" : "<redacted>"
        return "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>, sessionToken: \(token))"
    }

    package var debugDescription: String { description }

    /// `dump()` and debuggers walk the mirror, not `description`: give them the redacted view too.
    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            ],
            displayStyle: .struct
        )
    }
}
