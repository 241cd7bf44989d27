import Foundation
import HTTPTypes
import Hummingbird
import ModelServiceCore

/// Wraps every `/console` response: the security headers, the refusal of cross-site POSTs, and
/// errors answered as HTML pages (never a JSON body or a bare 500 in a browser).
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let pages: ConsolePages

    /// No inline script or style anywhere: everything the pages load comes from `/console/static`.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    static let crossSiteRefusal = ServiceError(.crossSiteRequest, "This form was not sent from this console, so it was refused.")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            if request.method == .post, !Self.isSameOrigin(request) { throw Self.crossSiteRefusal }
            response = try await next(request, context)
        } catch let error as ConsoleSignInRequired {
            response = try error.response(from: request, context: context)
        } catch let error as ServiceError {
            response = pages.renderer.errorPage(status: HTTPResponse.Status(code: error.status), message: error.message, viewer: await pages.sessions.viewer(request))
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "There is no page at this address." : (error.body ?? "The request could not be handled.")
            response = pages.renderer.errorPage(status: error.status, message: message, viewer: await pages.sessions.viewer(request))
        } catch {
            context.logger.error("console page failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            response = pages.renderer.errorPage(status: .internalServerError, message: "The page could not be shown; try again.", viewer: nil)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        if let frameOptions = HTTPField.Name("X-Frame-Options") { response.headers[frameOptions] = "DENY" }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    /// A POST must come from a page of this console: the browser's `Sec-Fetch-Site` and `Origin`
    /// say where a form was sent from (absent for non-browser clients, who carry no cookie).
    static func isSameOrigin(_ request: Request) -> Bool {
        if let name = HTTPField.Name("Sec-Fetch-Site"), let site = request.headers[name], !["same-origin", "none"].contains(site.lowercased()) {
            return false
        }
        if let origin = request.headers[.origin] {
            guard origin != "null", let host = URLComponents(string: origin).flatMap(Self.authority), let expected = request.head.authority
            else { return false }
            return host.lowercased() == expected.lowercased()
        }
        return true
    }

    private static func authority(_ url: URLComponents) -> String? {
        guard let host = url.host else { return nil }
        return url.port.map { "\(host):\($0)" } ?? host
    }
}
