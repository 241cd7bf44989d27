import ModelServiceCore

/// The credentials the fake Bedrock knows: requests signed (SigV4) with one of these pairs pass its signature
/// check, any other pair gets AWS's 403. A bearer token is a Bedrock API key, accepted unless it starts with
/// `bad` (the rule every fake applies to keys).
public enum FakeBedrockCredentials {
    /// A long-term key pair.
    public static let accessKeyId = "AKIAFAKEBEDROCK00001"
    public static let secretAccessKey = "fakeBedrockSecret/0001+wJalrXUtnFEMIK7MDENG"

    /// Temporary (STS) credentials: the session token must come with them, signed.
    public static let sessionAccessKeyId = "ASIAFAKEBEDROCK00002"
    public static let sessionSecretAccessKey = "fakeBedrockSessionSecret/0002+bPxRfiCYEXAMPLE"
    public static let sessionToken = "FwoGZXIvYXdzEFAKEsessionToken0002//IQoJb3JpZ2luX2VjEHdeadbeef"

    /// A Bedrock API key (long-term keys start with `ABSK`).
    public static let apiKey = "ABSKZmFrZUJlZHJvY2tBcGlLZXkwMDAx"

    static let known: [String: AWSCredentials] = [
        accessKeyId: AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey),
        sessionAccessKeyId: AWSCredentials(accessKeyId: sessionAccessKeyId, secretAccessKey: sessionSecretAccessKey, sessionToken: sessionToken),
    ]
}
