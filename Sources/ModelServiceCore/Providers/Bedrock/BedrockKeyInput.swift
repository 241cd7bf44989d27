import Foundation

/// A Bedrock key as the key API and the console's Settings card take it: an AWS key pair (`accessKeyId`,
/// `secretAccessKey`, `sessionToken`?) or a Bedrock API key (`apiKey`), and the `region` it is for.
///
/// Checked field by field; a refusal names the field and never repeats a value. The result is the one secret the
/// vault encrypts (``BedrockCredential``) and the region, which the key is bound to through its endpoint.
public struct BedrockKeyInput: Sendable {
    public var secret: Secret
    public var region: String?

    /// The longest STS session token accepted (AWS documents no maximum; real ones are 1–2 KB).
    public static let maxSessionTokenLength = 8_192

    public init(
        accessKeyId: String?, secretAccessKey: Secret?, sessionToken: Secret?, apiKey: Secret?, region: String?
    ) throws(ServiceError) {
        let accessKeyId = Self.present(accessKeyId)
        let secretAccessKey = Self.present(secretAccessKey?.reveal)
        let sessionToken = Self.present(sessionToken?.reveal)
        let apiKey = Self.present(apiKey?.reveal)
        if let region = Self.present(region) {
            self.region = try BedrockRegion.check(region, field: "region")
        } else {
            self.region = nil
        }
        let pairGiven = accessKeyId != nil || secretAccessKey != nil || sessionToken != nil
        if let apiKey {
            if pairGiven { throw .invalidField("apiKey", "give an API key or an access key pair (accessKeyId, secretAccessKey), not both") }
            self.secret = Secret(try Self.token(apiKey, field: "apiKey", maxLength: 4_096))
            return
        }
        guard let accessKeyId else {
            throw .invalidField("accessKeyId", pairGiven ? "is required with secretAccessKey" : "is required (or give apiKey, a Bedrock API key)")
        }
        guard accessKeyId.count >= 16, accessKeyId.count <= 128, accessKeyId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .invalidField("accessKeyId", "must be 16 to 128 letters and digits, such as AKIAIOSFODNN7EXAMPLE")
        }
        guard let secretAccessKey else { throw .invalidField("secretAccessKey", "is required with accessKeyId") }
        let secret = try Self.token(secretAccessKey, field: "secretAccessKey", maxLength: 256)
        var token: String?
        if let sessionToken { token = try Self.token(sessionToken, field: "sessionToken", maxLength: Self.maxSessionTokenLength) }
        self.secret = BedrockCredential.secret(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: token)
    }

    /// Printable ASCII without spaces, as every AWS secret is; the message says what is wrong, never the value.
    private static func token(_ value: String, field: String, maxLength: Int) throws(ServiceError) -> String {
        guard value.count <= maxLength else { throw .invalidField(field, "must be at most \(maxLength) characters") }
        guard value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .invalidField(field, "must be printable ASCII without spaces")
        }
        return value
    }

    /// The value without surrounding whitespace (a pasted newline), nil when nothing is left.
    private static func present(_ value: String?) -> String? {
        guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        return trimmed
    }
}
