import FakeProviders
import Foundation
import HTTPTypes
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// Budgets: the API, refusal with Retry-After at the limit, the soft threshold recorded once, fallbacks inside the budget.
@Suite struct BudgetTests {
    /// The periods are worked out by integer arithmetic; the Gregorian calendar is the judge, at every
    /// month's edges from 1900 to 2401 (leap days, century years) and at times of day inside them.
    @Test func periodStartsAgreeWithTheGregorianCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func expected(_ period: Budget.Period, _ millis: Int64) -> Int64 {
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let parts: Set<Calendar.Component> = period == .day ? [.year, .month, .day] : [.year, .month]
            return Int64((calendar.date(from: calendar.dateComponents(parts, from: date))!.timeIntervalSince1970 * 1000).rounded())
        }
        var checked = 0
        for year in 1900...2401 {
            for month in 1...12 {
                let first = calendar.date(from: DateComponents(year: year, month: month, day: 1))!
                let firstMillis = Int64(first.timeIntervalSince1970 * 1000)
                for offset: Int64 in [0, 1, 43_200_000, 86_399_999, 86_400_000, -1, -86_400_000, 15 * 86_400_000 + 3_600_000] {
                    let time = firstMillis + offset
                    #expect(Budget.Period.month.start(at: time) == expected(.month, time), "month of \(time)")
                    #expect(Budget.Period.day.start(at: time) == expected(.day, time), "day of \(time)")
                    checked += 1
                }
            }
        }
        #expect(checked == 502 * 12 * 8)
        #expect(Budget.Period.total.start(at: 1_700_000_000_000) == 0)
    }

    @Test(arguments: TestDatabase.available)
    func budgetsAreManagedByAdminsAndUsersSeeTheirOwn(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, _ in
            let created = try await client.call(.post, "/api/budgets", json: #"{"userId": "ann", "period": "day", "maxCost": 2.5}"#)
            #expect(created.status == .created, "\(created.body)")
            let budget = try decodeJSON(Budget.self, created.body)
            #expect(budget.spent == 0 && budget.remaining == 2.5 && budget.period == .day && budget.softThreshold == 0.8)
            #expect(budget.periodEnd != nil)
            _ = try await client.call(.post, "/api/budgets", json: #"{"userId": "ben", "period": "total", "maxTokens": 1000}"#)

            let ann = try await VaultAPI.token(client, role: "user", userId: "ann")
            let mine = try decodeJSON([Budget].self, try await client.call(.get, "/api/budgets", token: ann).body)
            #expect(mine.map(\.id) == [budget.id])
            #expect(try decodeJSON([Budget].self, try await client.call(.get, "/api/budgets").body).count == 2)
            let bens = try decodeJSON([Budget].self, try await client.call(.get, "/api/budgets?userId=ben").body)
            #expect(bens.count == 1 && bens[0].remainingTokens == 1000 && bens[0].periodEnd == nil)
            #expect(try await client.call(.get, "/api/budgets/\(bens[0].id)", token: ann).status == .notFound)
            #expect(try await client.call(.post, "/api/budgets", token: ann, json: #"{"userId": "ann", "maxCost": 99}"#).status == .forbidden)

            let patched = try await client.call(.patch, "/api/budgets/\(budget.id)", json: #"{"maxTokens": 500, "period": "month", "softThreshold": 0.5}"#)
            #expect(patched.status == .ok, "\(patched.body)")
            let changed = try decodeJSON(Budget.self, patched.body)
            #expect(changed.maxTokens == 500 && changed.maxCost == 2.5 && changed.period == .month && changed.softThreshold == 0.5)

            for (body, field) in [
                (#"{"period": "day", "maxCost": 1}"#, "userId"), (#"{"userId": "a", "tokenId": "b", "maxCost": 1}"#, "userId"),
                (#"{"userId": "a", "period": "week", "maxCost": 1}"#, "period"), (#"{"userId": "a", "maxCost": -1}"#, "maxCost"),
                (#"{"userId": "a"}"#, "maxCost"), (#"{"userId": "a", "maxCost": 1, "softThreshold": 2}"#, "softThreshold"),
            ] {
                let refused = try await client.call(.post, "/api/budgets", json: body)
                #expect(refused.status == .badRequest && refused.body.contains(field), "\(body): \(refused.body)")
            }
            #expect(try await client.call(.delete, "/api/budgets/\(budget.id)").status == .noContent)
            #expect(try await client.call(.get, "/api/budgets/\(budget.id)").status == .notFound)
        }
    }

    /// Each fake call uses 10 tokens; a 50-token daily budget admits calls while spent + reserved is under 50.
    @Test(arguments: TestDatabase.available)
    func aSpentBudgetRefusesWithRetryAfterAndRecordsTheSoftThresholdOnce(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, _ in
            let budget = try decodeJSON(Budget.self, try await client.call(.post, "/api/budgets", json: #"{"userId": "cy", "period": "day", "maxTokens": 50}"#).body)
            let model = GatewayHarness.modelName(.openai)
            var answered = 0
            var refusal: (status: HTTPResponse.Status, body: String, headers: HTTPFields)?
            for _ in 0..<10 {
                let response = try await TrafficTest.chat(client, model: model, user: "cy")
                if response.status == .ok { answered += 1 } else { refusal = response; break }
            }
            #expect(answered == 5)
            let refused = try #require(refusal)
            #expect(refused.status == .tooManyRequests)
            let error = try decodeJSON(ErrorBody.self, refused.body).error
            #expect(error.code == "budget_exceeded" && error.message.contains("daily budget") && error.message.contains(budget.id))
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // Someone else is not affected.
            #expect(try await TrafficTest.chat(client, model: model, user: "dee").status == .ok)

            let after = try decodeJSON(Budget.self, try await client.call(.get, "/api/budgets/\(budget.id)").body)
            #expect(after.spentTokens == 50 && after.remainingTokens == 0 && after.reservedTokens == 0)
            #expect(after.softThresholdReachedAt != nil)
            let audit = try decodeJSON([AuditLog.Entry].self, try await client.call(.get, "/api/audit?action=budget_threshold").body)
            #expect(audit.count == 1 && audit.first?.userId == "cy")
        }
    }

    @Test(arguments: TestDatabase.available)
    func aTokenBudgetCoversCallsMadeWithThatToken(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: TrafficTest.environment) { client, _, _ in
            let service = try decodeJSON(AccessTokenTests.Created.self, try await client.call(.post, "/api/tokens", json: #"{"role": "service"}"#).body)
            let created = try await client.call(.post, "/api/budgets", json: #"{"tokenId": "\#(service.accessToken.id)", "period": "month", "maxTokens": 15}"#)
            #expect(created.status == .created)
            let model = GatewayHarness.modelName(.gemini)
            #expect(try await TrafficTest.chat(client, model: model, token: service.token, user: "u1").status == .ok)
            #expect(try await TrafficTest.chat(client, model: model, token: service.token, user: "u2").status == .ok)
            let refused = try await TrafficTest.chat(client, model: model, token: service.token, user: "u3")
            #expect(refused.status == .tooManyRequests && refused.body.contains("monthly budget"))
        }
    }
}
