import Foundation

/// A Bedrock credential as the vault holds it: one encrypted secret, either an AWS key pair written as a small
/// JSON object (`{"accessKeyId", "secretAccessKey", "sessionToken"?}`) or a Bedrock API key as plain text,
/// told apart by shape. A key pair signs requests (SigV4); an API key goes as `Authorization: Bearer`.
package enum BedrockCredential: Sendable {
    case keyPair(AWSCredentials)
    case apiKey(String)

    /// Nil for no secret or an empty one.
    package init?(_ secret: Secret?) {
        guard let text = secret?.reveal, !text.isEmpty else { return nil }
        if let pair = Self.keyPair(in: text) {
            self = .keyPair(pair)
        } else {
            self = .apiKey(text)
        }
    }

    /// The secret stored for a key pair: compact JSON with sorted keys, so the same pair is always the same text.
    package static func secret(accessKeyId: String, secretAccessKey: String, sessionToken: String?) -> Secret {
        let stored = Stored(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken?.isEmpty == true ? nil : sessionToken)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Secret(String(decoding: (try? encoder.encode(stored)) ?? Data(), as: UTF8.self))
    }

    /// The key pair a secret holds, when it is one: a JSON object with a non-empty access key id and secret.
    package static func keyPair(in text: String) -> AWSCredentials? {
        guard text.utf8.first == UInt8(ascii: "{"), let stored = try? JSONDecoder().decode(Stored.self, from: Data(text.utf8)),
            !stored.accessKeyId.isEmpty, !stored.secretAccessKey.isEmpty
        else { return nil }
        return AWSCredentials(
            accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey,
            sessionToken: stored.sessionToken.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The texts no message may show: the whole secret and, for a key pair, its secret key and session token
    /// (the access key id is an identifier AWS itself prints in errors).
    package static func sensitiveParts(of secret: Secret) -> [String] {
        let text = secret.reveal
        guard let pair = keyPair(in: text) else { return [text] }
        return [text, pair.secretAccessKey] + (pair.sessionToken.map { [$0] } ?? [])
    }

    private struct Stored: Codable {
        var accessKeyId: String
        var secretAccessKey: String
        var sessionToken: String?
    }
}
