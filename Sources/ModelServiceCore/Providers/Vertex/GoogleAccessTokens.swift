import Foundation

/// Access tokens of service accounts, kept until shortly before they expire: a Vertex call asks here, and only a
/// missing or ageing token costs a request to the token endpoint (one per account per ~55 minutes, not one per call).
///
/// Keyed by ``GoogleServiceAccount/identity`` (a hash of email, key id and token endpoint), never by the key. A token
/// is refreshed once less than 5 minutes (or half its life, for short-lived ones) remain; concurrent callers share one
/// refresh. Bounded: past `capacity` accounts, expired entries go first, then those expiring soonest. Nothing runs in
/// the background, so there is no service to stop: a refresh is a request made for the callers waiting on it.
public actor GoogleAccessTokens {
    private struct Entry {
        var token: Secret
        var refreshAt: ContinuousClock.Instant
        var expiresAt: ContinuousClock.Instant
    }

    /// The most a refresh is moved ahead of expiry.
    package static let refreshMargin: Duration = .seconds(300)
    public let capacity: Int
    private var entries: [String: Entry] = [:]
    private var refreshing: [String: Task<Entry, any Error>] = [:]

    public init(capacity: Int = 1_000) {
        self.capacity = max(1, capacity)
    }

    /// A valid token for `account`: the cached one, or a fresh one when it is missing or due for refresh.
    package func token(for account: GoogleServiceAccount, client: UpstreamClient) async throws -> Secret {
        let id = account.identity
        let now = ContinuousClock.now
        let cached = entries[id]
        if let cached, now < cached.refreshAt { return cached.token }
        let refresh = refreshing[id] ?? startRefresh(id: id, account: account, client: client)
        do {
            return try await refresh.value.token
        } catch {
            // A failed early refresh leaves the old token usable until it really expires.
            if let cached, ContinuousClock.now < cached.expiresAt { return cached.token }
            throw error
        }
    }

    /// A fresh token, whatever is cached (key validation must ask Google, not remember); it replaces the cached one.
    package func freshToken(for account: GoogleServiceAccount, client: UpstreamClient) async throws -> Secret {
        let id = account.identity
        let refresh = refreshing[id] ?? startRefresh(id: id, account: account, client: client)
        return try await refresh.value.token
    }

    /// Accounts with a token held, for tests and metrics.
    package var count: Int { entries.count }

    /// The one request for `id`: a task of its own, so a caller that gives up does not fail the others waiting on it.
    private func startRefresh(id: String, account: GoogleServiceAccount, client: UpstreamClient) -> Task<Entry, any Error> {
        let task = Task<Entry, any Error> {
            let started = ContinuousClock.now
            do {
                let token = try await GoogleTokenExchange.fetch(account, client: client)
                let life = Duration.seconds(token.lifetimeSeconds)
                let entry = Entry(token: token.value, refreshAt: started + life - min(Self.refreshMargin, life / 2), expiresAt: started + life)
                self.finish(id, with: entry)
                return entry
            } catch {
                self.finish(id, with: nil)
                throw error
            }
        }
        refreshing[id] = task
        return task
    }

    private func finish(_ id: String, with entry: Entry?) {
        refreshing[id] = nil
        guard let entry else { return }
        entries[id] = entry
        guard entries.count > capacity else { return }
        let now = ContinuousClock.now
        entries = entries.filter { $0.value.expiresAt > now }
        while entries.count > capacity, let soonest = entries.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
            entries[soonest] = nil
        }
    }
}
