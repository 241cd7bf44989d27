import FakeProviders
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing
@testable import ModelService
@testable import ModelServiceCore

/// No number from a client, an upstream or a file can trap the process: each case that once killed it
/// is answered, and a plain call still works afterwards (the process is up).
@Suite struct OutsideNumbersTests {
    static let environment = TrafficTest.environment.merging(["UPSTREAM_RETRIES": "1"]) { $1 }

    /// A user with a budget, the setting in which admission adds the client's `max_tokens` to its estimate.
    static func withBudget(_ client: any TestClientProtocol, user: String) async throws {
        let budget = try await client.call(.post, "/api/budgets", json: #"{"userId": "\#(user)", "period": "day", "maxCost": 100, "maxTokens": 100000000}"#)
        #expect(budget.status == .created, "\(budget.body)")
    }

    static func stillServes(_ client: any TestClientProtocol) async throws {
        let plain = try await TrafficTest.chat(client, model: GatewayHarness.modelName(.openai), user: "kit")
        #expect(plain.status == .ok, "\(plain.body)")
    }

    @Test(arguments: TestDatabase.available)
    func anOutputLimitPastAnyBoundIsA400NamingTheField(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: Self.environment) { client, fakes, _ in
            try await Self.withBudget(client, user: "ivy")
            let headers: HTTPFields = [.init("X-User-Id")!: "ivy"]
            let openAI = GatewayHarness.modelName(.openai)
            let anthropic = GatewayHarness.modelName(.anthropic)
            for (field, value, problem) in [
                ("max_tokens", "9223372036854775807", "must be at most"), ("max_completion_tokens", "9223372036854775807", "must be at most"),
                ("max_tokens", "18446744073709551616", "must be an integer"), ("max_tokens", "1e308", "must be an integer"),
                ("max_tokens", "-1", "must be at least 1"), ("max_tokens", "0", "must be at least 1"),
                ("max_tokens", "301", "must be at most 300"), ("n", "9223372036854775807", "must be from 1 to 128"),
                ("top_logprobs", "-5", "must be from 0 to 20"),
            ] {
                for stream in [false, true] {
                    let body = GatewayHarness.chatBody(model: openAI, stream: stream, extra: ", \"\(field)\": \(value)")
                    let answer = try await client.call(.post, "/v1/chat/completions", json: body, headers: headers)
                    #expect(answer.status == .badRequest && answer.body.contains("\(field): \(problem)"), "\(field)=\(value): \(answer.body)")
                }
            }
            // The same through /v1/messages, relayed (Anthropic) and translated (OpenAI).
            for model in [anthropic, openAI] {
                for value in ["9223372036854775807", "-3"] {
                    let body = #"{"model": "\#(model)", "max_tokens": \#(value), "messages": [{"role": "user", "content": "hi"}]}"#
                    let answer = try await client.call(.post, "/v1/messages", json: body, headers: headers)
                    #expect(answer.status == .badRequest && answer.body.contains("max_tokens"), "\(model) \(value): \(answer.body)")
                }
            }
            let thinking = #"{"model": "\#(anthropic)", "max_tokens": 100, "thinking": {"type": "enabled", "budget_tokens": 9223372036854775807}, "messages": [{"role": "user", "content": "hi"}]}"#
            let refused = try await client.call(.post, "/v1/messages", json: thinking, headers: headers)
            #expect(refused.status == .badRequest && refused.body.contains("thinking.budget_tokens"), "\(refused.body)")
            let responses = #"{"model": "\#(openAI)", "input": "hi", "max_output_tokens": 9223372036854775807}"#
            let refusedResponses = try await client.call(.post, "/v1/responses", json: responses, headers: headers)
            #expect(refusedResponses.status == .badRequest && refusedResponses.body.contains("max_output_tokens"), "\(refusedResponses.body)")

            // A translated call past the model's limit is lowered to it, as the client cannot know the target's limit.
            await fakes.recorder.reset()
            let lowered = #"{"model": "\#(openAI)", "max_tokens": 32000, "messages": [{"role": "user", "content": "hi"}]}"#
            let answered = try await client.call(.post, "/v1/messages", json: lowered, headers: headers)
            #expect(answered.status == .ok, "\(answered.body)")
            let sent = try #require(await fakes.recorder.requests.last)
            let upstreamBody = try #require(try JSONSerialization.jsonObject(with: sent.body) as? [String: Any])
            #expect(upstreamBody["max_tokens"] as? Int == 300, "\(upstreamBody)")
            try await Self.stillServes(client)
        }
    }

    @Test(arguments: TestDatabase.available)
    func anUpstreamRetryAfterOfAnyFormIsCappedAndTheCallRetried(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: Self.environment) { client, fakes, _ in
            try await Self.withBudget(client, user: "ivy")
            for form in ["1e300", "-5", "nan", "inf", "httpdate", "soon"] {
                let model = try await TrafficTest.model(client, upstream: "rate-limit-after-\(form)")
                let answer = try await TrafficTest.chat(client, model: model, user: "ivy")
                #expect(answer.status == .tooManyRequests, "\(form): \(answer.body)")
                // Tried once more after the capped wait (UPSTREAM_RETRIES=1), and the client gets whole seconds, at most a day.
                #expect(await TrafficTest.upstreamCalls(fakes, model: "rate-limit-after-\(form)") == 2, "\(form)")
                if let retryAfter = answer.headers[.retryAfter] {
                    #expect(Int(retryAfter).map { (0...86_400).contains($0) } == true, "\(form): \(retryAfter)")
                }
            }
            try await Self.stillServes(client)
        }
    }

    @Test(arguments: TestDatabase.available)
    func anUpstreamReportingHugeCountsIsAnsweredAndRecordedBounded(database: TestDatabase) async throws {
        try await GatewayHarness.run(database: database, extra: Self.environment) { client, _, components in
            // One call under a budget: settling a billion tokens spends it, and the budget still reads.
            try await Self.withBudget(client, user: "ivy")
            let first = try await TrafficTest.model(client, upstream: "hostile-usage-max")
            #expect(try await TrafficTest.chat(client, model: first, user: "ivy").status == .ok)
            // `spent` may lag the call by a flush interval (PostgreSQL leases write every 200 ms).
            let spent = try await eventually(timeout: .seconds(30)) {
                let budgets = try await client.call(.get, "/api/budgets")
                return budgets.status == .ok && budgets.body.contains("\"spentTokens\":\(TokenCount.max)")
            }
            #expect(spent != nil, "the budget never showed the billion tokens spent")
            _ = components
            #expect(try await TrafficTest.chat(client, model: first, user: "ivy").status == .tooManyRequests)
            _ = try await client.call(.delete, "/api/models/\(first)")
            // The rest for a user without one (the refusal above is no call: it leaves no record).
            let headers: HTTPFields = [.init("X-User-Id")!: "jan"]
            var calls = 1
            for form in FakeHostile.usageForms.keys.sorted() {
                for provider in [ProviderKind.openai, .anthropic, .gemini, .ollama] {
                    let model = try await TrafficTest.model(client, upstream: "hostile-usage-\(form)", provider: provider)
                    for stream in [false, true] {
                        let chat = try await TrafficTest.chat(client, model: model, stream: stream, user: "jan")
                        let messages = try await client.call(
                            .post, "/v1/messages", json: #"{"model": "\#(model)", "max_tokens": 50, "stream": \#(stream), "messages": [{"role": "user", "content": "hi"}]}"#,
                            headers: headers)
                        calls += 2
                        // Counts that are numbers are read saturating; a count that is no number is an invalid answer, never a crash.
                        let readable = !["string", "nan", "1e400"].contains(form)
                        for answer in [chat.status, messages.status] where readable {
                            #expect(answer == .ok, "\(provider) \(form) stream=\(stream): \(answer)")
                        }
                    }
                    // The next provider gets a model of the same name.
                    _ = try await client.call(.delete, "/api/models/\(model)")
                }
                let embedding = try await client.call(.post, "/api/models", json: """
                    {"name": "embed/hostile-\(form)", "provider": "openai", "modelId": "fake-embed-hostile-usage-\(form)", "mode": "embedding", "inputCostPer1kTokens": 1}
                    """)
                #expect(embedding.status == .created)
                let embedded = try await client.call(.post, "/v1/embeddings", json: #"{"model": "embed/hostile-\#(form)", "input": "one two"}"#, headers: headers)
                calls += 1
                if !["string", "nan", "1e400"].contains(form) { #expect(embedded.status == .ok, "embeddings \(form): \(embedded.body)") }
            }
            await components.usage.flush()
            let most = try await components.database.run { sql in
                try await sql.raw("SELECT MAX(prompt_tokens) AS p, MAX(completion_tokens) AS c, MAX(total_tokens) AS t, COUNT(*) AS n FROM usage_records").first()
            }
            #expect(try most?.decode(column: "p", as: Int.self) == TokenCount.max)
            #expect(try most?.decode(column: "c", as: Int.self) == TokenCount.max)
            #expect(try most?.decode(column: "t", as: Int.self) ?? 0 <= 2 * TokenCount.max)
            let rows = try most?.decode(column: "n", as: Int.self) ?? 0
            #expect(rows >= calls, "\(rows) records of \(calls) calls")
            // Every report still answers.
            for grouping in ["", "&groupBy=model", "&groupBy=provider", "&groupBy=user", "&groupBy=day"] {
                let report = try await client.call(.get, "/api/usage?from=2020-01-01\(grouping)")
                #expect(report.status == .ok, "\(grouping): \(report.body)")
            }
            let (browser, _) = try await ConsoleSecurityTests.signIn(client, token: TestApp.adminToken)
            for page in ["/console/usage", "/console/usage.csv", "/console/usage?page=9223372036854775807"] {
                let answer = try await ConsoleSecurityTests.get(client, page, cookie: browser.cookie)
                #expect(answer.status == .ok, "\(page): \(answer.status)")
            }
            try await Self.stillServes(client)
        }
    }

    @Test(arguments: TestDatabase.available)
    func consolePageNumbersAreClamped(database: TestDatabase) async throws {
        try await TestApp.run(databaseURL: try await database.makeURL(), extra: ["SEED_ON_START": "false"]) { client, components in
            try await ConsoleUsageTests.seed(components.database, rows: 120, users: 60)
            let (browser, _) = try await ConsoleSecurityTests.signIn(client, token: TestApp.adminToken)
            for path in ["/console/usage", "/console/audit"] {
                for page in ["9223372036854775807", "-9223372036854775808", "99999999999999999999", "abc"] {
                    let answer = try await ConsoleSecurityTests.get(client, "\(path)?page=\(page)", cookie: browser.cookie)
                    #expect(answer.status == .ok, "\(path)?page=\(page): \(answer.status)")
                }
            }
            // The huge page is read as the last page allowed: its "previous" link is the page before it.
            let usage = try await ConsoleSecurityTests.get(client, "/console/usage?page=9223372036854775807", cookie: browser.cookie)
            #expect(usage.body.contains("page=\(ConsolePages.maxPage - 1)"), "\(usage.body.prefix(300))")
        }
    }

    @Test func damagedPendingLinesAreSetAsideNotDropped() async throws {
        let url = try await TestDatabase.sqlite.makeURL()
        let directory = (URL(string: url)!.path as NSString).deletingLastPathComponent
        let environment = ["DATA_DIR": directory, "SEED_ON_START": "false"]
        let spill = UsageSpillFile(directory: directory, logger: TestApp.logger)
        var good = UsageRecord(userId: "zed", tokenId: nil, model: "m", provider: .openai, status: 200)
        good.promptTokens = Int.max
        #expect(spill.append([good], to: .pending))
        let goodId = good.id
        let pending = spill.path(.pending)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pending))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"record\": {\"id\": \"cut-by-a-cra\n garbage that is no JSON\n".utf8))
        try handle.close()
        try await TestApp.run(databaseURL: url, extra: environment) { _, components in
            let stored = try await components.database.run { sql in
                try await sql.raw("SELECT prompt_tokens FROM usage_records WHERE id = \(bind: goodId)").first()
            }
            #expect(try stored?.decode(column: "prompt_tokens", as: Int.self) == TokenCount.max)
            #expect(components.usage.spill.deadLetterCount == 2)
        }
        let deadLetter = try String(contentsOfFile: (directory as NSString).appendingPathComponent("usage-dead-letter.jsonl"), encoding: .utf8)
        #expect(deadLetter.contains("cut-by-a-cra") && deadLetter.contains("garbage that is no JSON"), "\(deadLetter)")
        #expect(!FileManager.default.fileExists(atPath: pending) && !FileManager.default.fileExists(atPath: pending + ".importing"))
    }

    @Test func saturatingArithmeticNeverTraps() {
        #expect(Saturating.int(.nan) == 0)
        #expect(Saturating.int(.infinity) == .max && Saturating.int(-.infinity) == .min)
        #expect(Saturating.int(1e300) == .max && Saturating.int(0x1p63) == .max && Saturating.int(-0x1p63) == .min)
        #expect(Saturating.int(9.0e18) == 9_000_000_000_000_000_000)
        #expect(Saturating.add(.max, 1) == .max && Saturating.add(.min, -1) == .min && Saturating.subtract(.min, 1) == .min)
        #expect(Saturating.multiply(.max, 2) == .max && Saturating.multiply(.max, -2) == .min)
        #expect(Saturating.milliseconds(.seconds(Int64.max)) == .max)
        #expect(TokenCount.sum(.max, .max) == TokenCount.max && TokenCount.bounded(-1) == 0)
        #expect(Usage(promptTokens: .max, completionTokens: .max).totalTokens == TokenCount.max)
        let cap = Duration.seconds(20)
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryPolicy.retryAfter("1e300", now: now, cap: cap) == cap)
        #expect(RetryPolicy.retryAfter("nan", now: now, cap: cap) == .zero)
        #expect(RetryPolicy.retryAfter("-5", now: now, cap: cap) == .zero)
        #expect(RetryPolicy.retryAfter("1.5", now: now, cap: cap) == .milliseconds(1_500))
        #expect(RetryPolicy.retryAfter("Wed, 21 Oct 2015 07:28:03 GMT", now: now, cap: cap) == .seconds(3))
        #expect(RetryPolicy.retryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: now, cap: cap) == cap)
        #expect(RetryPolicy.retryAfter("soon", now: now, cap: cap) == nil)
    }
}
