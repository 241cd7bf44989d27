import Foundation

/// Single sign-on for the console with an OpenID Connect provider, from the environment. Off unless
/// `OIDC_ISSUER` is set; then `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET` are required too.
///
/// Who a person is: the ID token's `OIDC_USER_CLAIM` (default `sub`). What they may do: its
/// `OIDC_GROUPS_CLAIM` (default `groups`) makes them an admin when it holds one of `OIDC_ADMIN_GROUPS`, and a
/// member of team `x` for a group `team:x` (`team:x:admin`: its team admin; the prefix is `OIDC_TEAM_PREFIX`),
/// applied at every sign-in.
public struct OpenIDSettings: Sendable {
    public var issuer: String
    public var clientId: String
    public var clientSecret: Secret
    /// Where the provider sends the browser back; nil: this server's `/console/sso/callback` as the request reached it.
    public var redirectURI: String?
    public var userClaim: String
    public var groupsClaim: String
    public var adminGroups: Set<String>
    public var teamPrefix: String
    public var scopes: String
    /// How the sign-in button names the provider (`OIDC_NAME`, default the issuer's host).
    public var displayName: String

    /// Nil when single sign-on is off (`OIDC_ISSUER` unset or empty).
    public static func read(_ environment: [String: String]) throws(ConfigurationError) -> OpenIDSettings? {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let issuer = value("OIDC_ISSUER") else { return nil }
        if let problem = EndpointURL.problem(issuer) { throw .invalid("OIDC_ISSUER \(problem)") }
        guard let clientId = value("OIDC_CLIENT_ID") else { throw .invalid("OIDC_CLIENT_ID is required when OIDC_ISSUER is set") }
        guard let clientSecret = value("OIDC_CLIENT_SECRET") else { throw .invalid("OIDC_CLIENT_SECRET is required when OIDC_ISSUER is set") }
        let redirectURI = value("OIDC_REDIRECT_URI")
        if let redirectURI, let problem = EndpointURL.problem(redirectURI) { throw .invalid("OIDC_REDIRECT_URI \(problem)") }
        let list = { (name: String) in Set((value(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
        return OpenIDSettings(
            issuer: issuer, clientId: clientId, clientSecret: Secret(clientSecret), redirectURI: redirectURI,
            userClaim: value("OIDC_USER_CLAIM") ?? "sub", groupsClaim: value("OIDC_GROUPS_CLAIM") ?? "groups",
            adminGroups: list("OIDC_ADMIN_GROUPS"), teamPrefix: value("OIDC_TEAM_PREFIX") ?? "team:",
            scopes: value("OIDC_SCOPES") ?? "openid profile email", displayName: value("OIDC_NAME") ?? URLComponents(string: issuer)?.host ?? issuer)
    }

    /// What a person's groups make them: admin or not, and their teams by name with a role each.
    public func access(groups: [String]) -> (admin: Bool, teams: [String: TeamRole]) {
        var teams: [String: TeamRole] = [:]
        for group in groups where group.hasPrefix(teamPrefix) {
            var name = String(group.dropFirst(teamPrefix.count))
            var role = TeamRole.member
            if name.hasSuffix(":admin") {
                name = String(name.dropLast(":admin".count))
                role = .teamAdmin
            }
            name = name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 200 else { continue }
            // As many teams as one user may be in; the groups after those are not read.
            guard teams[name] != nil || teams.count < TeamStore.maxTeamsPerUser else { break }
            if teams[name] != .teamAdmin { teams[name] = role }
        }
        return (!adminGroups.isDisjoint(with: groups), teams)
    }
}
