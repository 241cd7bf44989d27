import ModelServiceCore

/// The Vertex AI card of the settings page: a service account's JSON key file (pasted, or read from a file by
/// `console.js`) and an optional project and region, in place of an API key.
extension ConsoleSettingsController {
    /// The page's field for an error about `field` (a member of the key file is reported on the key file).
    static func vertexField(_ field: String?) -> String {
        switch field {
        case "project": "project-vertex"
        case "region": "region-vertex"
        default: "apiKey-vertex"
        }
    }

    /// The key file is never written back into the page (it holds the private key); project and region are not secret but
    /// are not kept either, so the form starts clean after a refusal.
    static func vertexFields(errors: FieldErrors) -> [String: Any] {
        [
            "keyFile": ConsoleField.textarea(
                "apiKey-vertex", "Vertex AI service account JSON key", value: nil, error: errors["apiKey-vertex"],
                hint: "Paste the key file, or choose it below. Only its client_email is shown afterwards."),
            "project": ConsoleField.text("project-vertex", "Project (optional)", value: nil, error: errors["project-vertex"], hint: "Default: the key file's project_id"),
            "region": ConsoleField.text("region-vertex", "Region (optional)", value: nil, error: errors["region-vertex"], hint: "Default: us-central1"),
        ]
    }
}
