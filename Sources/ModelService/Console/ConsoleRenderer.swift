import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import ModelServiceCore

/// The console's Mustache templates, loaded once from the package bundle, and the page frame
/// (navigation, CSRF token, notices) every page shares.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary
    /// The stylesheet and the script, by file name: two small files, read once like the templates.
    let staticFiles: [String: (contentType: String, bytes: ByteBuffer)]

    static func load() async throws -> ConsoleRenderer {
        guard let resources = Bundle.module.resourceURL else {
            throw StorageError.unavailable("the console templates are missing from the bundle")
        }
        var files: [String: (contentType: String, bytes: ByteBuffer)] = [:]
        for (name, type) in [("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8")] {
            let data = try Data(contentsOf: resources.appendingPathComponent("Static").appendingPathComponent(name))
            files[name] = (type, ByteBuffer(bytes: data))
        }
        return ConsoleRenderer(library: try await MustacheLibrary(directory: resources.appendingPathComponent("Templates").path), staticFiles: files)
    }

    /// A static file of the console, cached by browsers for five minutes.
    func staticFile(_ name: String) -> Response? {
        guard let file = staticFiles[name] else { return nil }
        return Response(status: .ok, headers: [.contentType: file.contentType, .cacheControl: "public, max-age=300"], body: .init(byteBuffer: file.bytes))
    }

    /// One link of the navigation bar, shown only to the roles that may open it.
    struct NavItem {
        var label: String
        var path: String
        var adminOnly: Bool
        /// Shown to admins and users alike.
        var everyone = false
    }

    static let navigation: [NavItem] = [
        .init(label: "Models", path: "/console/models", adminOnly: true),
        .init(label: "Prices", path: "/console/prices", adminOnly: true),
        .init(label: "Keys", path: "/console/keys", adminOnly: true),
        .init(label: "Tokens", path: "/console/tokens", adminOnly: true),
        .init(label: "Teams", path: "/console/teams", adminOnly: false, everyone: true),
        .init(label: "Usage", path: "/console/usage", adminOnly: true),
        .init(label: "Audit", path: "/console/audit", adminOnly: true),
        .init(label: "Health", path: "/console/health", adminOnly: true),
        .init(label: "Webhooks", path: "/console/webhooks", adminOnly: true),
        .init(label: "Settings", path: "/console/settings", adminOnly: false),
        .init(label: "My usage", path: "/console/my-usage", adminOnly: false),
    ]

    /// Renders `template` inside the layout as an HTML response.
    func page(
        _ template: String, title: String, viewer: ConsoleViewer?, current: String? = nil, status: HTTPResponse.Status = .ok,
        errors: FieldErrors = FieldErrors(), notice: String? = nil, _ data: [String: Any] = [:]
    ) -> Response {
        var context = data
        context["title"] = title
        if let notice { context["notice"] = notice }
        context["errorSummary"] = errors.summary
        context["hasErrors"] = !errors.isEmpty
        if let viewer {
            context["csrf"] = viewer.csrf
            context["signedIn"] = true
            context["who"] = viewer.principal.userId.map { "user \($0)" } ?? "\(viewer.principal.role.rawValue)"
            context["nav"] = Self.navigation.filter { item in
                item.everyone || (viewer.principal.isAdmin ? item.adminOnly : (!item.adminOnly && viewer.principal.userId != nil))
            }.map { ["label": $0.label, "path": $0.path, "current": $0.path == current] as [String: Any] }
        }
        let html = library.render(context, withTemplate: template) ?? "<!doctype html><title>Console</title><p>Missing template \(template)</p>"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page for an error: the same frame, the message, a way back.
    func errorPage(status: HTTPResponse.Status, message: String, viewer: ConsoleViewer?) -> Response {
        let title = status == .forbidden ? "Not allowed" : (status == .notFound ? "Page not found" : "Something went wrong")
        return page("error", title: title, viewer: viewer, status: status, ["message": message, "status": status.code])
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
