import Foundation

/// Who may see and change which stored keys.
///
/// A user token manages only its own user's keys and the keys of the teams its user administers; a
/// service token any named user's (not shared or team keys); an admin everything. A key the caller may not manage is answered as not found, so ids
/// of other users' keys reveal nothing.
package struct KeyAccess: Sendable {
    package let principal: Principal
    /// The teams whose keys a user token manages: those its user administers.
    package let teams: Set<String>

    package var mayStoreUnvalidated: Bool { principal.role != .user }

    package func mayManage(_ key: StoredAPIKey) -> Bool {
        switch principal.role {
        case .admin: true
        case .service: !key.owner.hasPrefix("@")
        case .user: key.teamId.map(teams.contains) ?? principal.userId.map { !$0.hasPrefix("@") && $0 == key.owner } ?? false
        }
    }

    /// The stored owner of a new key from the body's `userId` / `shared` / `teamId` (a team that exists).
    package func ownerForNewKey(userId: String?, shared: Bool, teamId: String? = nil) throws(ServiceError) -> String {
        if let teamId {
            guard userId == nil, !shared else { throw .invalidField("teamId", "a team's key has no userId and is not shared with everyone") }
            guard principal.isAdmin || (principal.role == .user && teams.contains(teamId)) else { throw .notFound("team") }
            return RecordBinding.teamOwner(teamId)
        }
        if shared {
            guard principal.isAdmin else { throw .forbidden("Only an admin may manage shared keys.") }
            guard userId == nil else { throw .invalidField("userId", "a shared key has no userId") }
            return RecordBinding.sharedOwner
        }
        switch principal.role {
        case .user:
            let own = try ownUserId()
            if let userId, userId != own { throw .forbidden("A user token may only add keys for its own user.") }
            return own
        case .service:
            guard let userId else { throw .invalidField("userId", "is required (a service token acts for the user it names)") }
            return try Self.checkedUserId(userId)
        case .admin:
            // The seed's body names a user; an admin naming none stores a shared key.
            guard let userId else { return RecordBinding.sharedOwner }
            return try Self.checkedUserId(userId)
        }
    }

    /// The listing filter for `?userId=&provider=&shared=`; nil means the answer is empty.
    package func listFilter(userId: String?, provider: ProviderKind?, shared: Bool?) throws(ServiceError) -> APIKeyStore.Filter? {
        switch principal.role {
        case .user:
            let own = try ownUserId()
            if shared == true || (userId != nil && userId != own) { return nil }
            guard !teams.isEmpty else { return .init(owner: own, provider: provider) }
            return .init(provider: provider, owners: [own] + teams.sorted().map(RecordBinding.teamOwner))
        case .service:
            if shared == true { return nil }
            return .init(owner: userId, provider: provider, excludeShared: true)
        case .admin:
            if shared == true {
                if userId != nil { return nil }
                return .init(owner: RecordBinding.sharedOwner, provider: provider)
            }
            return .init(owner: userId, provider: provider, excludeShared: shared == false)
        }
    }

    /// The user a user token is bound to (required for `/api/users/me/*`).
    package func ownUserId() throws(ServiceError) -> String {
        guard let userId = principal.userId, !userId.hasPrefix("@") else {
            throw .forbidden("This endpoint needs a user token (one bound to a userId).")
        }
        return userId
    }

    package static func checkedUserId(_ userId: String) throws(ServiceError) -> String {
        try UserId.checked(userId, field: "userId")
    }

    package init(principal: Principal, teams: Set<String> = []) {
        self.principal = principal
        self.teams = teams
    }
}
