import Foundation
import ModelServiceCore

/// What a console sign-in remembers: which token signed in (never its secret) and the CSRF token of
/// every form of that session.
struct ConsoleSession: Codable, Sendable, Equatable {
    var tokenId: String
    var role: AccessRole
    var userId: String?
    /// Random per session; every form posts it back and a POST without it is refused.
    var csrf: String

    static func makeCSRF() -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The signed-in caller of a console page.
struct ConsoleViewer: Sendable {
    var principal: Principal
    var csrf: String
}
