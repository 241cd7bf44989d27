import Foundation

/// A provider's server-wide fallback credential in the environment: one variable for most providers. Bedrock's is
/// read as the AWS SDKs read it: `AWS_BEARER_TOKEN_BEDROCK` (an API key), else the key pair `AWS_ACCESS_KEY_ID` +
/// `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), held as one secret (``BedrockCredential``).
public enum EnvironmentCredential {
    public static let awsAccessKeyId = "AWS_ACCESS_KEY_ID"
    public static let awsSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
    public static let awsSessionToken = "AWS_SESSION_TOKEN"

    /// The credential `variable` stands for, and the variables it came from (for labels); nil when unset or empty.
    public static func read(_ variable: String, provider: ProviderKind, environment: [String: String]) -> (secret: Secret, source: String)? {
        if let value = environment[variable], !value.isEmpty { return (Secret(value), variable) }
        guard provider == .bedrock, variable == provider.defaultAPIKeyEnvVar,
            let accessKeyId = nonEmpty(environment[awsAccessKeyId]), let secretAccessKey = nonEmpty(environment[awsSecretAccessKey])
        else { return nil }
        let token = nonEmpty(environment[awsSessionToken])
        let secret = BedrockCredential.secret(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: token)
        return (secret, "\(awsAccessKeyId) and \(awsSecretAccessKey)" + (token == nil ? "" : " (+ \(awsSessionToken))"))
    }

    /// How a message names the variables that would serve `variable`: "AWS_BEARER_TOKEN_BEDROCK, or AWS_ACCESS_KEY_ID and …".
    public static func describe(_ variable: String, provider: ProviderKind) -> String {
        guard provider == .bedrock, variable == provider.defaultAPIKeyEnvVar else { return variable }
        return "\(variable), or \(awsAccessKeyId) and \(awsSecretAccessKey) (+ \(awsSessionToken))"
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
