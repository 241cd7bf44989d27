/// The only form of an API key the console and list endpoints show.
///
/// Enough to recognise a key (`sk-proj********wxyz`), never enough to use it: the mask has a fixed
/// width so the length is hidden, and at least half of the key is always hidden.
public enum KeyMasking {
    public static let mask = "********"
    public static let maximumPrefixLength = 7
    public static let suffixLength = 4

    /// `prefix + ******** + last 4`; keys of 8 characters or fewer give just `********`. An AWS key pair
    /// (Bedrock) shows only the last 4 characters of its access key id: the rest of its JSON is secret. A Google
    /// service account (a JSON key file) shows as its `client_email`, which names it and signs nothing.
    public static func maskedPrefix(_ key: Secret) -> String {
        if let pair = BedrockCredential.keyPair(in: key.reveal) {
            return mask + String(pair.accessKeyId.suffix(pair.accessKeyId.count > mask.count ? suffixLength : 0))
        }
        if key.reveal.first == "{" { return (try? GoogleServiceAccount.parse(key))?.clientEmail ?? mask }
        let characters = Array(key.reveal)
        guard characters.count > mask.count else { return mask }
        // Shown characters (prefix + suffix) never exceed half the key: 9–12 get no or a short prefix.
        let prefixLength = max(0, min(maximumPrefixLength, characters.count / 2 - suffixLength))
        return String(characters.prefix(prefixLength)) + mask + String(characters.suffix(suffixLength))
    }
}
