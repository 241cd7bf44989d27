import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Teams (issue 23): members and team admins, the call's team, team keys between the user's and the shared
/// ones, team budgets across instances, and a team admin who sees nothing of other teams.
@Suite struct TeamTests {
    static let userHeader = HTTPField.Name("X-User-Id")!
    static let teamHeader = HTTPField.Name("X-Team-Id")!

    static func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    /// A team named `name` with `members` (user id → role); returns its id.
    static func team(_ client: any TestClientProtocol, _ name: String, members: [String: String] = [:]) async throws -> String {
        let created = try await client.call(.post, "/api/teams", json: #"{"name": "\#(name)"}"#)
        #expect(created.status == .created, "\(created.body)")
        let id = try #require(try object(created.body)["id"] as? String)
        for (user, role) in members.sorted(by: { $0.key < $1.key }) {
            let added = try await client.call(.post, "/api/teams/\(id)/members", json: #"{"userId": "\#(user)", "role": "\#(role)"}"#)
            #expect(added.status == .created, "\(added.body)")
        }
        return id
    }

    static func userToken(_ client: any TestClientProtocol, _ userId: String, teamId: String? = nil) async throws -> String {
        let team = teamId.map { #", "teamId": "\#($0)""# } ?? ""
        let created = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "\#(userId)"\#(team)}"#)
        #expect(created.status == .created, "\(created.body)")
        return try #require(try object(created.body)["token"] as? String)
    }

    @Test(arguments: TestDatabase.available)
    func teamsAndTheirMembersAreManagedAndAudited(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL()) { client, components in
            let id = try await Self.team(client, "Research", members: ["ana": "team-admin", "ben": "member"])
            #expect(try await client.call(.post, "/api/teams", json: #"{"name": "research"}"#).status == .conflict)
            #expect(try await client.call(.post, "/api/teams", json: #"{"name": ""}"#).status == .badRequest)
            let members = try await client.call(.get, "/api/teams/\(id)/members")
            #expect(members.body.contains(#""userId":"ana""#) && members.body.contains(#""role":"team-admin""#), "\(members.body)")
            let renamed = try await client.call(.patch, "/api/teams/\(id)", json: #"{"name": "Research & Dev"}"#)
            #expect(renamed.status == .ok && renamed.body.contains("Research & Dev") && renamed.body.contains(#""memberCount":2"#), "\(renamed.body)")
            let bad = try await client.call(.post, "/api/teams/\(id)/members", json: #"{"userId": "ben", "role": "owner"}"#)
            #expect(bad.status == .badRequest, "\(bad.body)")
            #expect(try await client.call(.delete, "/api/teams/\(id)/members/ben").status == .noContent)
            #expect(try await client.call(.delete, "/api/teams/\(id)/members/ben").status == .notFound)

            // A team that still holds a budget is not deleted; without it, it is.
            let budget = try await client.call(.post, "/api/budgets", json: #"{"teamId": "\#(id)", "period": "month", "maxCost": 10}"#)
            #expect(budget.status == .created, "\(budget.body)")
            let refused = try await client.call(.delete, "/api/teams/\(id)")
            #expect(refused.status == .conflict && refused.body.contains("1 budget"), "\(refused.body)")
            #expect(try await client.call(.delete, "/api/budgets/\(try #require(try Self.object(budget.body)["id"] as? String))").status == .noContent)
            #expect(try await client.call(.delete, "/api/teams/\(id)").status == .noContent)
            #expect(try await client.call(.get, "/api/teams/\(id)").status == .notFound)

            let audited = try await components.database.run { sql in
                try await sql.raw("SELECT action, detail FROM audit_log WHERE subject_type = 'team' ORDER BY at, seq").all()
                    .map { "\(try $0.decode(column: "action", as: String.self)) \(try $0.decode(column: "detail", as: String?.self) ?? "")" }
            }
            #expect(audited.first == "create team Research" && audited.contains("update member ana as team-admin"), "\(audited)")
            #expect(audited.contains("update renamed to Research & Dev") && audited.contains("delete member ben removed") && audited.last == "delete ", "\(audited)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aTeamAdminSeesNothingOfAnotherTeam(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, _ in
            let teamA = try await Self.team(client, "A", members: ["alice": "team-admin", "amy": "member"])
            let teamB = try await Self.team(client, "B", members: ["bob": "team-admin", "bea": "member"])
            // Team B's things, made by the admin.
            let keyB = try await client.call(
                .post, "/api/api-keys?skipValidation=true", json: #"{"teamId": "\#(teamB)", "provider": "openai", "keyName": "b", "apiKey": "sk-team-b-0123456789"}"#)
            #expect(keyB.status == .created, "\(keyB.body)")
            let budgetB = try await client.call(.post, "/api/budgets", json: #"{"teamId": "\#(teamB)", "period": "month", "maxCost": 10}"#)
            let tokenB = try await client.call(.post, "/api/tokens", json: #"{"role": "user", "userId": "bea", "teamId": "\#(teamB)"}"#)
            #expect(tokenB.status == .created, "\(tokenB.body)")
            let tokenBId = try #require(try Self.object(tokenB.body)["accessToken"] as? [String: Any])["id"] as? String ?? ""
            let keyBId = try Self.object(keyB.body)["id"] as? String ?? ""
            let budgetBId = try Self.object(budgetB.body)["id"] as? String ?? ""

            let alice = try await Self.userToken(client, "alice")
            // Everything of team B answers as if it did not exist.
            let refusals: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/api/teams/\(teamB)", nil), (.get, "/api/teams/\(teamB)/members", nil),
                (.post, "/api/teams/\(teamB)/members", #"{"userId": "alice"}"#), (.delete, "/api/teams/\(teamB)/members/bea", nil),
                (.get, "/api/api-keys/\(keyBId)", nil), (.delete, "/api/api-keys/\(keyBId)", nil),
                (.post, "/api/api-keys", #"{"teamId": "\#(teamB)", "provider": "openai", "apiKey": "sk-good-alice-0123"}"#),
                (.get, "/api/budgets/\(budgetBId)", nil), (.delete, "/api/budgets/\(budgetBId)", nil),
                (.post, "/api/budgets", #"{"teamId": "\#(teamB)", "period": "day", "maxCost": 1}"#),
                (.post, "/api/tokens", #"{"role": "user", "userId": "bea", "teamId": "\#(teamB)"}"#), (.delete, "/api/tokens/\(tokenBId)", nil),
                (.get, "/api/usage?teamId=\(teamB)", nil),
            ]
            for (method, path, body) in refusals {
                let answer = try await client.call(method, path, token: alice, json: body)
                #expect(answer.status == .notFound, "\(method) \(path): \(answer.status) \(answer.body)")
            }
            // Lists show team A's only.
            let teams = try await client.call(.get, "/api/teams", token: alice)
            #expect(teams.body.contains(teamA) && !teams.body.contains(teamB), "\(teams.body)")
            for path in ["/api/api-keys", "/api/budgets", "/api/tokens"] {
                let listed = try await client.call(.get, path, token: alice)
                #expect(listed.status == .ok && !listed.body.contains(teamB), "\(path): \(listed.body)")
            }

            // Team A's own: a member's token, a key, a budget, its usage.
            let made = try await client.call(.post, "/api/tokens", token: alice, json: #"{"role": "user", "userId": "amy", "teamId": "\#(teamA)"}"#)
            #expect(made.status == .created, "\(made.body)")
            let outsider = try await client.call(.post, "/api/tokens", token: alice, json: #"{"role": "user", "userId": "bea", "teamId": "\#(teamA)"}"#)
            #expect(outsider.status == .badRequest && outsider.body.contains("not a member"), "\(outsider.body)")
            let service = try await client.call(.post, "/api/tokens", token: alice, json: #"{"role": "service", "teamId": "\#(teamA)"}"#)
            #expect(service.status == .forbidden, "\(service.body)")
            let keyA = try await client.call(.post, "/api/api-keys", token: alice, json: #"{"teamId": "\#(teamA)", "provider": "openai", "apiKey": "sk-good-team-a-0123"}"#)
            #expect(keyA.status == .created && keyA.body.contains(#""teamId":"\#(teamA)""#), "\(keyA.body)")
            let budgetA = try await client.call(.post, "/api/budgets", token: alice, json: #"{"teamId": "\#(teamA)", "period": "day", "maxCost": 1}"#)
            #expect(budgetA.status == .created, "\(budgetA.body)")
            let usage = try await client.call(.get, "/api/usage?teamId=\(teamA)&groupBy=user", token: alice)
            #expect(usage.status == .ok, "\(usage.body)")
            // The console answers the same: team B's page is not found, team A's shows its members and management.
            let (browser, _) = try await ConsoleSecurityTests.signIn(client, token: alice)
            #expect(try await ConsoleSecurityTests.get(client, "/console/teams/\(teamB)", cookie: browser.cookie).status == .notFound)
            let addToB = try await ConsoleSecurityTests.post(
                client, "/console/teams/\(teamB)/members", ["csrf": browser.csrf, "userId": "alice"], cookie: browser.cookie)
            #expect(addToB.status == .notFound)
            let pageA = try await ConsoleSecurityTests.get(client, "/console/teams/\(teamA)", cookie: browser.cookie)
            #expect(pageA.status == .ok && pageA.body.contains("<td>amy</td>") && pageA.body.contains("Add a member") && !pageA.body.contains("<td>bea</td>"), "\(pageA.body)")
            let list = try await ConsoleSecurityTests.get(client, "/console/teams", cookie: browser.cookie)
            #expect(list.body.contains(">A</a>") && !list.body.contains(">B</a>"), "\(list.body)")
            // A plain member administers nothing.
            let amy = try await Self.userToken(client, "amy")
            #expect(try await client.call(.post, "/api/teams/\(teamA)/members", token: amy, json: #"{"userId": "x"}"#).status == .notFound)
            #expect(try await client.call(.get, "/api/teams/\(teamA)/members", token: amy).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.available)
    func keysResolveUserThenTeamThenSharedThenEnvironment(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, fakes, components in
            let team = try await Self.team(client, "Keys", members: ["carol": "member"])
            var ids: [String] = []
            for (owner, secret) in [
                (#""userId": "carol""#, "sk-carol-user-0123456789"), (#""teamId": "\#(team)""#, "sk-team-keys-0123456789"),
                (#""shared": true"#, "sk-everyone-0123456789"),
            ] {
                let stored = try await client.call(
                    .post, "/api/api-keys?skipValidation=true", json: #"{\#(owner), "provider": "openai", "keyName": "k", "apiKey": "\#(secret)"}"#)
                #expect(stored.status == .created, "\(stored.body)")
                ids.append(try #require(try Self.object(stored.body)["id"] as? String))
            }
            let teamKeyId = ids[1]
            let audited = try await components.database.run { sql in
                try await sql.raw("SELECT detail FROM audit_log WHERE key_id = \(bind: teamKeyId) AND action = 'create'").first()?.decode(column: "detail", as: String?.self)
            }
            #expect(audited?.contains("shared with team \(team)") == true, "\(String(describing: audited))")
            let listed = try await client.call(.get, "/api/api-keys/\(ids[1])")
            #expect(listed.body.contains(#""teamId":"\#(team)""#) && listed.body.contains(#""userId":null"#) && listed.body.contains(#""shared":false"#), "\(listed.body)")

            let expected = ["sk-carol-user-0123456789", "sk-team-keys-0123456789", "sk-everyone-0123456789", GatewayHarness.envKey(.openai)]
            for (index, key) in expected.enumerated() {
                let answer = try await client.call(
                    .post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: GatewayHarness.modelName(.openai), stream: false),
                    headers: [Self.userHeader: "carol"])
                #expect(answer.status == .ok, "\(answer.body)")
                #expect(await fakes.recorder.last(provider: "openai")?.headers["authorization"] == "Bearer \(key)", "step \(index)")
                if index < ids.count { #expect(try await client.call(.delete, "/api/api-keys/\(ids[index])").status == .noContent) }
            }
            await components.usage.flush()
            let sources = try await components.database.run { sql in
                try await sql.raw("SELECT key_source, team_id FROM usage_records WHERE user_id = 'carol' ORDER BY at, id").all()
                    .map { "\(try $0.decode(column: "key_source", as: String?.self) ?? "-") \(try $0.decode(column: "team_id", as: String?.self) ?? "-")" }
            }
            #expect(sources == ["user", "team", "shared", "env"].map { "\($0) \(team)" }, "\(sources)")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aCallIsForItsTokensTeamOrTheOneItNames(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database) { client, _, components in
            let red = try await Self.team(client, "Red", members: ["dan": "member"])
            let blue = try await Self.team(client, "Blue", members: ["dan": "member"])
            let gray = try await Self.team(client, "Gray")
            let model = GatewayHarness.modelName(.openai)
            let body = GatewayHarness.chatBody(model: model, stream: false)
            // In two teams, naming none: the call cannot tell which team's budgets apply.
            let unnamed = try await client.call(.post, "/v1/chat/completions", json: body, headers: [Self.userHeader: "dan"])
            #expect(unnamed.status == .badRequest && unnamed.body.contains("X-Team-Id"), "\(unnamed.body)")
            let outside = try await client.call(.post, "/v1/chat/completions", json: body, headers: [Self.userHeader: "dan", Self.teamHeader: gray])
            #expect(outside.status == .badRequest && outside.body.contains("X-Team-Id"), "\(outside.body)")
            let named = try await client.call(.post, "/v1/chat/completions", json: body, headers: [Self.userHeader: "dan", Self.teamHeader: blue])
            #expect(named.status == .ok, "\(named.body)")
            // A token of team Red calls for Red, and names no other.
            let token = try await Self.userToken(client, "dan", teamId: red)
            #expect(try await client.call(.post, "/v1/chat/completions", token: token, json: body).status == .ok)
            let other = try await client.call(.post, "/v1/chat/completions", token: token, json: body, headers: [Self.teamHeader: blue])
            #expect(other.status == .badRequest, "\(other.body)")
            // Removed from Red, dan's Red token calls for nobody.
            #expect(try await client.call(.delete, "/api/teams/\(red)/members/dan").status == .noContent)
            let removed = try await client.call(.post, "/v1/chat/completions", token: token, json: body)
            #expect(removed.status == .forbidden && removed.body.contains("no longer in its team"), "\(removed.body)")
            await components.usage.flush()
            let teams = try await components.database.run { sql in
                try await sql.raw("SELECT team_id FROM usage_records WHERE user_id = 'dan' AND status = 200 ORDER BY at, id").all()
                    .map { try $0.decode(column: "team_id", as: String?.self) }
            }
            #expect(teams == [blue, red], "\(teams)")
            let report = try await client.call(.get, "/api/usage?groupBy=team")
            #expect(report.body.contains(#""key":"\#(red)""#) && report.body.contains(#""key":"\#(blue)""#), "\(report.body)")
            // The console's usage page has the same by team (named) and by token.
            let (browser, _) = try await ConsoleSecurityTests.signIn(client, token: TestApp.adminToken)
            let usage = try await ConsoleSecurityTests.get(client, "/console/usage", cookie: browser.cookie)
            #expect(usage.body.contains("By team") && usage.body.contains("<td>Red</td>") && usage.body.contains("<td>Blue</td>"), "\(usage.body)")
            #expect(usage.body.contains("By token"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func aTeamsLimitsHoldPerModelAndOverEveryModel(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, components in
            try await MultiInstanceTrafficTests.awayFromAMinuteBoundary()
            let team = try await Self.team(client, "Limited", members: ["lia": "member", "leo": "member"])
            let other = try await Self.team(client, "Free", members: ["fay": "member"])
            let openai = GatewayHarness.modelName(.openai)
            let gemini = GatewayHarness.modelName(.gemini)
            let limits = #"{"limits": [{"model": "\#(openai)", "rateLimitPerMinute": 1}, {"model": "*", "rateLimitPerMinute": 3}]}"#
            let set = try await client.call(.patch, "/api/teams/\(team)", json: limits)
            #expect(set.status == .ok && set.body.contains(#""rateLimitPerMinute":3"#), "\(set.body)")
            let refusedLimits = try await client.call(.patch, "/api/teams/\(team)", json: #"{"limits": [{"model": "*"}]}"#)
            #expect(refusedLimits.status == .badRequest, "\(refusedLimits.body)")
            let call = { (user: String, model: String) in
                try await client.call(.post, "/v1/chat/completions", json: GatewayHarness.chatBody(model: model, stream: false), headers: [Self.userHeader: user])
            }
            // One OpenAI call a minute for the whole team, whoever makes it; three calls over every model.
            #expect(try await call("lia", openai).status == .ok)
            let second = try await call("leo", openai)
            #expect(second.status == .tooManyRequests && second.body.contains("team \(team) for model"), "\(second.body)")
            #expect(try await call("leo", gemini).status == .ok)
            #expect(try await call("lia", gemini).status == .ok)
            let fourth = try await call("leo", gemini)
            #expect(fourth.status == .tooManyRequests && fourth.body.contains("every model"), "\(fourth.body)")
            // Another team's member is not held by them.
            #expect(try await call("fay", openai).status == .ok)
            _ = other
            let audited = try await components.database.run { sql in
                try await sql.raw("SELECT detail FROM audit_log WHERE subject_type = 'team' AND detail LIKE 'limits%'").all()
                    .map { try $0.decode(column: "detail", as: String?.self) ?? "" }
            }
            #expect(audited.contains { $0.contains("*: 3 requests/min") }, "\(audited)")
        }
    }

    /// A $-budget of a team worth five calls; 40 calls at once from three members over two instances.
    @Test(.enabled(if: MultiInstanceTrafficTests.enabled))
    func aTeamBudgetHoldsOverTwoInstances() async throws {
        try await MultiInstanceTrafficTests.twoInstances { ports, client, first, second in
            let team = try await Self.team(client, "Budgeted", members: ["m1": "member", "m2": "member", "m3": "team-admin"])
            let callCost = 0.0175
            let budget = 5 * callCost
            let created = try await client.call(.post, "/api/budgets", json: #"{"teamId": "\#(team)", "period": "day", "maxCost": \#(budget)}"#)
            #expect(created.status == .created, "\(created.body)")
            let ready = try await eventually(timeout: .seconds(10)) {
                !second.traffic.budgets.budgets(userId: nil, tokenId: "-", teamId: team).isEmpty && second.teams.memberships(of: "m3")[team] != nil
            }
            #expect(ready != nil)
            let model = GatewayHarness.modelName(.openai)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask { try await MultiInstanceTrafficTests.chat(port: ports[index % 2], model: model, user: "m\(index % 3 + 1)") }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 } && statuses.contains(200) && statuses.contains(429), "\(statuses)")
            await first.usage.flush()
            await second.usage.flush()
            let spent = try await TrafficTest.usageRows(first).filter { $0.status == 200 }.map(\.cost).reduce(0, +)
            #expect(spent > 0 && spent <= budget + callCost + 1e-9, "spent \(spent) of a team budget of \(budget)")
        }
    }
}
