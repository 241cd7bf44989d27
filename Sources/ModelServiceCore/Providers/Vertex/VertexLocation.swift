import Foundation

/// Where a Vertex AI call goes: the project, the region, the host, and the publisher whose API the model speaks.
///
/// Project: the model's `providerSettings.project`, else the one stored with the key, else the service account's
/// `project_id`. Region: `providerSettings.region`, else the key's, else `us-central1`. The host is
/// `{region}-aiplatform.googleapis.com` (`aiplatform.googleapis.com` for `global`) unless the base URL was overridden
/// (`VERTEX_BASE_URL`, `providerSettings.baseURL`), which is then used as given.
package struct VertexLocation: Sendable, Equatable {
    package static let defaultRegion = "us-central1"

    package var project: String
    package var region: String
    package var publisher: VertexPublisher
    /// `https://…/v1/projects/{project}/locations/{region}/publishers/{publisher}/models`, no trailing slash.
    package var modelsURL: String

    package init(target: UpstreamTarget, account: GoogleServiceAccount) throws(ProviderError) {
        let settings = target.settings
        guard let project = settings["project"]?.stringValue ?? account.project ?? account.projectID, !project.isEmpty else {
            throw .invalidRequest("Vertex AI needs a project: set providerSettings.project or use a service account with a project_id")
        }
        let region = settings["region"]?.stringValue ?? account.region ?? Self.defaultRegion
        if let problem = Self.projectProblem(project) { throw .invalidRequest("providerSettings.project \(problem)") }
        if let problem = Self.regionProblem(region) { throw .invalidRequest("providerSettings.region \(problem)") }
        self.project = project
        self.region = region
        self.publisher = try VertexPublisher(model: target.upstreamModel, setting: settings["publisher"]?.stringValue)
        let root = Self.root(baseURL: target.baseURL, region: region)
        self.modelsURL = "\(root)/v1/projects/\(project)/locations/\(region)/publishers/\(publisher.rawValue)/models"
    }

    /// `https://{region}-aiplatform.googleapis.com` for the provider's default base URL, else the base URL as configured.
    package static func root(baseURL: String, region: String) -> String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        guard EndpointURL.normalized(String(base)) == EndpointURL.normalized(ProviderKind.vertex.defaultBaseURL) else { return String(base) }
        return region == "global" ? "https://aiplatform.googleapis.com" : "https://\(region)-aiplatform.googleapis.com"
    }

    /// The URL of `method` (`generateContent`, `streamRawPredict`, ...) for the model, its id escaped once, here.
    package func url(model: String, method: String) -> String {
        let escaped = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", ":"])) ?? model
        return "\(modelsURL)/\(escaped):\(method)"
    }

    /// Regions are lower-case words and digits joined by hyphens (`us-central1`, `europe-west4`, `global`): they become a host name.
    package static func regionProblem(_ region: String) -> String? {
        let allowed = region.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        return !region.isEmpty && region.utf8.count <= 63 && allowed && !region.hasPrefix("-") ? nil : "must be a Vertex AI region such as us-central1"
    }

    /// Project ids (and numbers) are letters, digits and hyphens: they become a path segment.
    package static func projectProblem(_ project: String) -> String? {
        let allowed = project.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E || $0 == 0x3A }
        return !project.isEmpty && project.utf8.count <= 100 && allowed ? nil : "must be a Google Cloud project id"
    }
}

/// Whose API a Vertex model speaks: Google's Gemini (`generateContent`) or Anthropic's Messages (`rawPredict`).
///
/// `providerSettings.publisher` decides when set; otherwise a model id starting with `claude` is Anthropic's.
package enum VertexPublisher: String, Sendable {
    case google, anthropic

    package init(model: String, setting: String?) throws(ProviderError) {
        if let setting {
            guard let publisher = VertexPublisher(rawValue: setting.lowercased()) else {
                throw .invalidRequest("providerSettings.publisher must be google or anthropic")
            }
            self = publisher
        } else {
            self = model.lowercased().hasPrefix("claude") ? .anthropic : .google
        }
    }
}
