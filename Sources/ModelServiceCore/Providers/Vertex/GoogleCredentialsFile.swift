import Foundation

/// The server-wide Vertex AI credential: `VERTEX_SERVICE_ACCOUNT_JSON` (the key file's text), else the file
/// `GOOGLE_APPLICATION_CREDENTIALS` names (as Google's own libraries read it), read once at start into that variable.
public enum GoogleCredentialsFile {
    public static let textVariable = "VERTEX_SERVICE_ACCOUNT_JSON"
    public static let pathVariable = "GOOGLE_APPLICATION_CREDENTIALS"

    /// `environment` with the file's text under ``textVariable`` when only the path is set. Reads at most
    /// ``GoogleServiceAccount/maxBytes``; the error names the variable, never the file's content.
    public static func environment(_ environment: [String: String]) throws(ConfigurationError) -> [String: String] {
        guard environment[textVariable]?.isEmpty ?? true, let path = environment[pathVariable], !path.isEmpty else { return environment }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .invalid("\(pathVariable): the file \(path) cannot be read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: GoogleServiceAccount.maxBytes + 1)) ?? Data()
        guard data.count <= GoogleServiceAccount.maxBytes else {
            throw .invalid("\(pathVariable): the file is larger than \(GoogleServiceAccount.maxBytes / 1024) KiB, so not a service-account key")
        }
        var result = environment
        result[textVariable] = String(decoding: data, as: UTF8.self)
        return result
    }
}
