/// What a token may do: `admin` everything; `service` an internal system acting for any user it
/// names; `user` one user's own keys, usage and chats.
public enum AccessRole: String, Sendable, Codable, CaseIterable {
    case admin, service, user
}

/// The authenticated caller of a request.
public struct Principal: Sendable, Equatable {
    public var tokenId: String
    public var role: AccessRole
    /// Set for `user` tokens (the user they are bound to); nil for admin and service tokens.
    public var userId: String?

    /// The token's model list and own limits; nil when it has none.
    public var restrictions: TokenRestrictions?
    /// The team the token calls for (its calls use the team's keys and count against its budgets).
    public var teamId: String?

    public init(tokenId: String, role: AccessRole, userId: String?, restrictions: TokenRestrictions? = nil, teamId: String? = nil) {
        self.tokenId = tokenId
        self.role = role
        self.userId = userId
        self.restrictions = restrictions
        self.teamId = teamId
    }

    public var isAdmin: Bool { role == .admin }
    /// Admin and service tokens act for any user they name.
    public var actsForAnyUser: Bool { role != .user }
}
