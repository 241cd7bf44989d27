import Foundation

/// AWS region names and the Bedrock endpoints of a region.
///
/// A region goes into a host name (`bedrock-runtime.{region}.amazonaws.com`), so only the shape AWS uses is
/// accepted: lower-case letters, digits and hyphens, starting with a letter (`us-east-1`, `us-gov-west-1`).
/// Anything else could point a signed request at another host.
public enum BedrockRegion {
    /// The region when neither the model nor `AWS_REGION` names one.
    public static let fallback = "us-east-1"
    public static let maxLength = 32

    public static func isValid(_ text: String) -> Bool {
        guard let first = text.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), text.utf8.count <= maxLength else {
            return false
        }
        return text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
        } && !text.hasSuffix("-")
    }

    /// Returns `text` when it is a region name, else a 400 naming `field`.
    @discardableResult
    public static func check(_ text: String, field: String) throws(ServiceError) -> String {
        guard isValid(text) else {
            throw .invalidField(field, "must be an AWS region such as us-east-1 (lower-case letters, digits and hyphens)")
        }
        return text
    }

    /// The Converse endpoint of `region`: `https://bedrock-runtime.{region}.amazonaws.com`.
    public static func runtimeURL(_ region: String) -> String {
        "https://bedrock-runtime.\(region).amazonaws.com"
    }

    /// The region a Bedrock host names (`bedrock-runtime.eu-west-1.amazonaws.com`, `bedrock.eu-west-1.amazonaws.com`,
    /// their `-fips` forms), or nil for any other host (a proxy, the fake).
    public static func region(inBaseURL baseURL: String) -> String? {
        guard let host = URLComponents(string: baseURL)?.host?.lowercased() else { return nil }
        let labels = host.split(separator: ".")
        guard labels.count == 4, labels[2] == "amazonaws", labels[3] == "com",
            ["bedrock-runtime", "bedrock", "bedrock-runtime-fips", "bedrock-fips"].contains(labels[0])
        else { return nil }
        let region = String(labels[1])
        return isValid(region) ? region : nil
    }

    /// Where ListFoundationModels is asked: the control-plane host of the runtime endpoint's region, or the
    /// same base when the endpoint is not AWS's own (a proxy or the fake serves both).
    public static func controlPlaneURL(forBaseURL baseURL: String) -> String {
        guard let region = region(inBaseURL: baseURL), let host = URLComponents(string: baseURL)?.host?.lowercased() else { return baseURL }
        return host.hasPrefix("bedrock-runtime-fips.") ? "https://bedrock-fips.\(region).amazonaws.com" : "https://bedrock.\(region).amazonaws.com"
    }
}
