import ModelServiceCore

/// What a caller may do with teams: an admin everything; a service token reads them; a user token reads the
/// teams its user is in and manages those it administers (their members, tokens, keys and budgets). A team the
/// caller may not see is answered as not found, so other teams' ids reveal nothing.
struct TeamAccess {
    let principal: Principal
    let teams: TeamStore

    /// The teams the caller administers as a team admin (an admin administers every team: see ``mayAdminister(_:)``).
    var administered: Set<String> {
        guard principal.role == .user, let userId = principal.userId else { return [] }
        return teams.administered(by: userId)
    }

    func mayAdminister(_ teamId: String) -> Bool {
        principal.isAdmin || administered.contains(teamId)
    }

    func mayRead(_ teamId: String) -> Bool {
        principal.actsForAnyUser || principal.userId.map { teams.role(userId: $0, teamId: teamId) != nil } ?? false
    }

    /// The team, when the caller may read it; else the 404 of a team that does not exist.
    func readable(_ teamId: String) throws(ServiceError) -> Team {
        guard let team = teams.team(id: teamId), mayRead(teamId) else { throw .notFound("team") }
        return team
    }

    /// The team, when the caller may manage it.
    func administrable(_ teamId: String) throws(ServiceError) -> Team {
        guard let team = teams.team(id: teamId), mayAdminister(teamId) else { throw .notFound("team") }
        return team
    }

    /// Key access with the teams whose keys this caller manages.
    var keys: KeyAccess { KeyAccess(principal: principal, teams: administered) }
}
