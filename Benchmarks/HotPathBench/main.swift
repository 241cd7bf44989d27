/// Micro-benchmarks of the gateway's per-request pieces, through the library's public API.
///
/// `swift run -c release --scratch-path .build-release HotPathBench [--json PATH] [--scale F]`
///
/// Each operation is timed in batches (`batch` calls per clock read, so sub-microsecond operations
/// are not dominated by the clock); mean, p50 and p99 are per call, over the batches. `--scale`
/// multiplies the number of batches (0.2 for a quick run).
///
/// Translators (`AnthropicTranslator`, `GeminiTranslator`, `OllamaTranslator`, `AnthropicMessage`,
/// `GeminiResponse`, `OllamaChatResponse`, `OpenAIAdapter.upstreamBody`, `ProviderJSON`) are
/// internal, so per-provider translation is measured by what is reachable: the canonical request's
/// decode/encode and the provider body's JSON encode/decode as `JSONValue` (the translators build a
/// `JSONValue` and encode it with `JSONEncoder`). See BENCHMARKS.md for what should be exposed.
import Foundation
import Logging
import ModelService
import ModelServiceCore
import NIOCore

// MARK: - Canned payloads

let clientBody = #"""
{"model":"bench/echo","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say hello to the benchmark in a few short words please, nothing more."}],"temperature":0.2,"max_tokens":64,"stream":false}
"""#
let clientBodyData = Data(clientBody.utf8)

let openAIResponse = #"""
{"id":"chatcmpl-9xYz","object":"chat.completion","created":1732000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello, benchmark! Nice to meet you in a few short words.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":28,"completion_tokens":14,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_0ba0d124f1"}
"""#
let anthropicResponse = #"""
{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"Hello, benchmark! Nice to meet you in a few short words."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":28,"output_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}
"""#
let geminiResponse = #"""
{"candidates":[{"content":{"parts":[{"text":"Hello, benchmark! Nice to meet you in a few short words."}],"role":"model"},"finishReason":"STOP","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_HATE_SPEECH","probability":"NEGLIGIBLE"}]}],"usageMetadata":{"promptTokenCount":28,"candidatesTokenCount":14,"totalTokenCount":42},"modelVersion":"gemini-1.5-flash-002"}
"""#
let ollamaResponse = #"""
{"model":"llama3.2","created_at":"2024-11-19T10:00:00.000000Z","message":{"role":"assistant","content":"Hello, benchmark! Nice to meet you in a few short words."},"done_reason":"stop","done":true,"total_duration":512345678,"load_duration":1234567,"prompt_eval_count":28,"prompt_eval_duration":12345678,"eval_count":14,"eval_duration":234567890}
"""#

/// The upstream body each translator produces for `clientBody` (shape as sent on the wire).
let upstreamBodies: [(String, String)] = [
    ("openai", #"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say hello to the benchmark in a few short words please, nothing more."}],"temperature":0.2,"max_tokens":64}"#),
    ("anthropic", #"{"model":"claude-3-5-haiku-20241022","system":"You are a terse assistant.","messages":[{"role":"user","content":[{"type":"text","text":"Say hello to the benchmark in a few short words please, nothing more."}]}],"temperature":0.2,"max_tokens":64}"#),
    ("gemini", #"{"systemInstruction":{"parts":[{"text":"You are a terse assistant."}]},"contents":[{"role":"user","parts":[{"text":"Say hello to the benchmark in a few short words please, nothing more."}]}],"generationConfig":{"temperature":0.2,"maxOutputTokens":64}}"#),
    ("ollama", #"{"model":"llama3.2","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Say hello to the benchmark in a few short words please, nothing more."}],"stream":false,"options":{"temperature":0.2,"num_predict":64}}"#),
]

/// A 50-event OpenAI stream: role chunk, 47 one-word content chunks, finish chunk, usage chunk, then `[DONE]`.
func openAIStream() -> String {
    var text = ""
    func chunk(_ delta: String, finish: String?) -> String {
        let finishJSON = finish.map { "\"\($0)\"" } ?? "null"
        return #"data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finishJSON)}]}"# + "\n\n"
    }
    text += chunk(#"{"role":"assistant","content":""}"#, finish: nil)
    for index in 0..<47 { text += chunk(#"{"content":" word\#(index)"}"#, finish: nil) }
    text += chunk("{}", finish: "stop")
    text += #"data: {"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":28,"completion_tokens":47,"total_tokens":75}}"# + "\n\n"
    text += "data: [DONE]\n\n"
    return text
}

// MARK: - Registry, tokens (need a database)

let logger = Logger(label: "hotpath-bench") { _ in SwiftLogNoOpLogHandler() }
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hotpath-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

let database = try await Database.open(.sqlite(path: directory.appendingPathComponent("bench.sqlite").path), logger: logger)
try await Migrations.run(on: database)
let registry = ModelRegistry(database: database)
let providers: [ProviderKind] = [.openai, .anthropic, .gemini, .azure, .ollama, .xai]
var names: [String] = []
for index in 0..<30 {
    var fields = ModelFields()
    let provider = providers[index % providers.count]
    let name = "\(provider.rawValue)/bench-model-\(index)"
    fields.name = .set(name)
    fields.provider = .set(provider.rawValue)
    fields.modelId = .set("bench-model-\(index)")
    fields.maxTokens = .set(4096)
    fields.inputCostPer1kTokens = .set(0.001)
    fields.outputCostPer1kTokens = .set(0.002)
    _ = try await registry.create(fields, actor: .commandLine)
    names.append(name)
}
let tokens = AccessTokenStore(database: database, environmentAdminToken: Secret("bench-admin-token-0123456789"), logger: logger)
let (_, serviceToken) = try await tokens.create(role: .service, userId: nil, name: "bench", expiresAt: nil, actor: .commandLine)
try await tokens.reload()

print("HotPathBench (\(names.count) models in the registry; times per call)")
do {
    var index = 0
    measure("registry", "model(named:) from cache, 30 models", batch: 1_000, batches: 2_000) {
        index &+= 1
        return registry.model(named: names[index % names.count])?.maxTokens ?? 0
    }
    let upper = names.map { $0.uppercased() }
    measure("registry", "model(named:) mixed case", batch: 1_000, batches: 1_000) {
        index &+= 1
        return registry.model(named: upper[index % upper.count])?.maxTokens ?? 0
    }
}
let wrongToken = Secret("not-a-token-0123456789abcdef")
measure("auth", "AccessTokenStore.authenticate (service token)", batch: 100, batches: 2_000) {
    tokens.authenticate(serviceToken)?.tokenId.utf8.count ?? 0
}
measure("auth", "AccessTokenStore.authenticate (unknown token)", batch: 100, batches: 1_000) {
    tokens.authenticate(wrongToken) == nil ? 1 : 0
}
try await database.withRunning { _ in }

// MARK: - Keys

do {
    let master = try MasterKey.derive(secret: Secret("k3J9x-Tq7wZ2pL0vR8mN4bY6cH1sD5fG-benchmark-only"), salt: MasterKey.makeInstallationSalt(), version: 1, cost: .fastForTests)
    let cipher = KeyCipher(keyring: Keyring(only: master))
    let binding = RecordBinding(keyId: "0b6c8f8e-7d1e-4c55-9a57-3f1f0c2f4d11", owner: "user-42", provider: "openai")
    let apiKey = Secret("sk-proj-" + String(repeating: "AbCdEfGh12", count: 15) + "XyZ0123456")
    let stored = try cipher.encrypt(apiKey, binding: binding)
    try measure("keys", "KeyCipher.decrypt (HKDF + AES-GCM open, 164-char key)", batch: 10, batches: 5_000) {
        try cipher.decrypt(stored, binding: binding).reveal.utf8.count
    }
    let resolver = KeyResolver(environment: ["OPENAI_API_KEY": apiKey.reveal])
    let model = registry.model(named: names[0])!
    try measure("keys", "KeyResolver.resolve (environment key)", batch: 100, batches: 2_000, note: "the vault's user/shared key lookup is not wired yet") {
        try resolver.resolve(userId: "user-42", provider: .openai, model: model).secret?.reveal.utf8.count ?? 0
    }
}

// MARK: - Request translation

let decoder = JSONDecoder()
let encoder = JSONEncoder()
encoder.outputFormatting = [.withoutEscapingSlashes]
try measure("request", "decode client body → ChatCompletionRequest", batch: 10, batches: 5_000) {
    try decoder.decode(ChatCompletionRequest.self, from: clientBodyData).messages.count
}
let canonical = try decoder.decode(ChatCompletionRequest.self, from: clientBodyData)
try measure("request", "openai: encode ChatCompletionRequest (upstream body)", batch: 10, batches: 5_000, note: "what OpenAIAdapter sends: ProviderJSON.encodeBuffer(upstreamBody)") {
    var body = canonical
    body.model = "gpt-4o-mini"
    return try ByteBuffer(bytes: encoder.encode(body)).readableBytes
}
for (provider, text) in upstreamBodies where provider != "openai" {
    let value = try decoder.decode(JSONValue.self, from: Data(text.utf8))
    try measure("request", "\(provider): encode JSONValue body", batch: 10, batches: 5_000, note: "encode half of \(provider.capitalized)Translator.body (internal)") {
        try ByteBuffer(bytes: encoder.encode(value)).readableBytes
    }
}

// MARK: - Response translation

try measure("response", "openai: decode ChatCompletionResponse", batch: 10, batches: 5_000) {
    try decoder.decode(ChatCompletionResponse.self, from: Data(openAIResponse.utf8)).choices.count
}
for (provider, text) in [("anthropic", anthropicResponse), ("gemini", geminiResponse), ("ollama", ollamaResponse)] {
    let data = Data(text.utf8)
    try measure("response", "\(provider): decode upstream body as JSONValue", batch: 10, batches: 5_000, note: "proxy: the typed decode (\(provider) response type) is internal") {
        try decoder.decode(JSONValue.self, from: data).objectValue?.count ?? 0
    }
}
let response = try decoder.decode(ChatCompletionResponse.self, from: Data(openAIResponse.utf8))
try measure("response", "encode ChatCompletionResponse → client JSON", batch: 10, batches: 5_000) {
    try encoder.encode(response).count
}

// MARK: - Streaming

let stream = openAIStream()
let streamBuffer = ByteBuffer(string: stream)
try measure("sse", "ServerSentEventParser: 50-event stream, 1 buffer", batch: 1, batches: 5_000, note: "per stream (50 events + [DONE])") {
    var parser = ServerSentEventParser()
    return try parser.push(streamBuffer).count + parser.finish().count
}
let pieces: [ByteBuffer] = stride(from: 0, to: streamBuffer.readableBytes, by: 512).map {
    streamBuffer.getSlice(at: $0, length: min(512, streamBuffer.readableBytes - $0))!
}
try measure("sse", "ServerSentEventParser: same stream in 512-byte reads", batch: 1, batches: 5_000, note: "per stream, \(pieces.count) buffers") {
    var parser = ServerSentEventParser()
    var count = 0
    for piece in pieces { count += try parser.push(piece).count }
    return count + parser.finish().count
}
var parser = ServerSentEventParser()
let events = try parser.push(streamBuffer).filter { $0.text != "[DONE]" }
try measure("sse", "decode one event's data → ChatCompletionChunk", batch: 10, batches: 5_000, note: "per event") {
    var total = 0
    let event = events[1]
    total += try decoder.decode(ChatCompletionChunk.self, from: Data(event.data.readableBytesView)).choices.count
    return total
}
let chunk = try decoder.decode(ChatCompletionChunk.self, from: Data(events[1].data.readableBytesView))
try measure("sse", "SSEWriter.sseFrame(for:) one chunk", batch: 10, batches: 5_000, note: "per event") {
    try SSEWriter.sseFrame(for: chunk).readableBytes
}
try measure("sse", "relay 50-event stream: parse + decode + frame", batch: 1, batches: 2_000, note: "per stream: the gateway's per-stream CPU for an OpenAI upstream") {
    var parser = ServerSentEventParser()
    var total = 0
    for event in try parser.push(streamBuffer) + parser.finish() where event.text != "[DONE]" {
        let chunk = try decoder.decode(ChatCompletionChunk.self, from: Data(event.data.readableBytesView))
        total += try SSEWriter.sseFrame(for: chunk).readableBytes
    }
    return total
}

// MARK: - Traffic control

do {
    let trafficDatabase = try await Database.open(.sqlite(path: directory.appendingPathComponent("traffic.sqlite").path), logger: logger)
    try await trafficDatabase.withRunning { trafficDatabase in
        try await Migrations.run(on: trafficDatabase)
        let trafficRegistry = ModelRegistry(database: trafficDatabase)
        var fields = ModelFields()
        fields.name = .set("bench/limited")
        fields.provider = .set("openai")
        fields.modelId = .set("gpt-4o-mini")
        fields.rateLimitPerMinute = .set(1_000_000_000)
        fields.rateLimitPerDay = .set(1_000_000_000)
        fields.tokenLimitPerMinute = .set(1_000_000_000_000)
        fields.inputCostPer1kTokens = .set(0.15)
        fields.outputCostPer1kTokens = .set(0.6)
        let limited = try await trafficRegistry.create(fields, actor: .commandLine)
        let canonicalBytes = (try? JSONEncoder().encode(canonical).count) ?? 0
        let traffic = TrafficControl(database: trafficDatabase, registry: trafficRegistry, keyHealth: nil, settings: TrafficSettings(), logger: logger)
        try await measureAsync("traffic", "admit + settle: request and token limits (memory)", batch: 10, batches: 2_000) {
            let admission = try await traffic.admit(
                model: limited, candidates: [limited], userId: "user-42", tokenId: "t1", promptBytes: canonicalBytes, maxOutputTokens: 256)
            traffic.settle(admission, cost: 0.0001, tokens: 42)
            return admission.estimatedTokens
        }
        // The route step (issue 21): one deployment (every model before deployments), then three with affinity on,
        // with what the router hears of each call (in flight, first byte, the conversation's deployment).
        let router = traffic.router
        measure("routing", "route: one deployment", batch: 1_000, batches: 2_000) {
            traffic.candidates(for: limited).flatMap { router.order($0, conversation: nil) }.count
        }
        for upstream in ["gpt-4o-mini-eu", "gpt-4o-mini-us"] {
            var deployment = DeploymentFields()
            deployment.modelId = .set(upstream)
            _ = try await trafficRegistry.addDeployment(modelId: limited.id, deployment, actor: .commandLine)
        }
        var routing = ModelFields()
        routing.routing = .set(Routing(strategy: .weighted, promptCacheAffinity: true))
        guard let three = try await trafficRegistry.update(id: limited.id, routing, actor: .commandLine) else { fatalError("the benchmark's model vanished") }
        // A ten-message conversation of about 1.6 KB, as a chat client sends it.
        let turns = (0..<4).map { #",{"role":"user","content":"Question \#($0) about the quarterly figures and what they mean for us"},{"role":"assistant","content":"Answer \#($0): revenue grew, costs fell, and the margin is the best in three years."}"# }
        let conversation = ByteBuffer(string: #"{"model":"bench/limited","messages":[{"role":"system","content":"You are a careful financial analyst who answers briefly."},{"role":"user","content":"Here are the figures for the quarter."}"# + turns.joined() + "]}")
        measure("routing", "route: three deployments, affinity on, \(conversation.readableBytes)-byte body", batch: 1_000, batches: 2_000,
                note: "conversation key + order + what the router hears of the call") {
            let key = ConversationKey.of(conversation, caller: "user-42")
            let ordered = traffic.candidates(for: three).flatMap { router.order($0, conversation: key) }
            let chosen = ordered[0].deployment?.id ?? ""
            router.began(chosen)
            router.attemptEnded(chosen, answered: true, elapsed: .milliseconds(40))
            if let key { router.stick(key, to: chosen) }
            router.released(chosen, tokens: 42)
            return ordered.count
        }
        _ = try await traffic.budgets.create(userId: "user-43", tokenId: nil, period: .month, maxCost: 1_000_000_000, maxTokens: nil)
        try await measureAsync(
            "traffic", "admit + settle: limits and a budget (SQLite)", batch: 10, batches: 1_000,
            note: "SQLite: the budget ledger is in memory, spending written in batches off the path"
        ) {
            let admission = try await traffic.admit(
                model: limited, candidates: [limited], userId: "user-43", tokenId: "t1", promptBytes: canonicalBytes, maxOutputTokens: 256)
            traffic.settle(admission, cost: 0.0001, tokens: 42)
            return admission.estimatedTokens
        }
    }
}

// MARK: - Traffic control on PostgreSQL (`BENCH_DATABASE_URL=postgres://…`)

if let benchURL = ProcessInfo.processInfo.environment["BENCH_DATABASE_URL"], !benchURL.isEmpty {
    let postgres = try await Database.open(try DatabaseLocation.parse(benchURL, dataDirectory: directory.path), logger: logger)
    try await postgres.withRunning { postgres in
        try await Migrations.run(on: postgres)
        let registry = ModelRegistry(database: postgres)
        // Names of this run's own, so rows an earlier run left never count.
        let run = UUID().uuidString.prefix(8).lowercased()
        var fields = ModelFields()
        fields.name = .set("bench/pg-limited-\(run)")
        fields.provider = .set("openai")
        fields.modelId = .set("gpt-4o-mini")
        fields.rateLimitPerMinute = .set(1_000_000_000)
        fields.tokenLimitPerMinute = .set(1_000_000_000_000)
        fields.inputCostPer1kTokens = .set(0.15)
        fields.outputCostPer1kTokens = .set(0.6)
        let limited = try await registry.create(fields, actor: .commandLine)
        let canonicalBytes = (try? JSONEncoder().encode(canonical).count) ?? 0
        let traffic = TrafficControl(database: postgres, registry: registry, keyHealth: nil, settings: TrafficSettings(), logger: logger)
        traffic.limiter.arm()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The limiter's service: token writes every 200 ms and heartbeats, as in `serve`.
            group.addTask { try await traffic.limiter.run() }
            // The budgets' service: leased spending written every 200 ms, idle headroom handed back.
            group.addTask { try await traffic.budgets.run() }
            let before = traffic.limiter.sharedStatements
            try await measureAsync(
                "traffic", "admit + settle: request and token limits (PostgreSQL)", batch: 10, batches: 2_000,
                note: "request window leased in blocks, token window read from cache and written in batches"
            ) {
                let admission = try await traffic.admit(
                    model: limited, candidates: [limited], userId: "pg-user-\(run)", tokenId: "t1", promptBytes: canonicalBytes, maxOutputTokens: 256)
                traffic.settle(admission, cost: 0.0001, tokens: 42)
                return admission.estimatedTokens
            }
            let after = traffic.limiter.sharedStatements
            print(
                "             statements on the limits' path: \(after.leases - before.leases) leases, \(after.tokenReads - before.tokenReads) token reads;",
                "\(after.tokenWrites - before.tokenWrites) batched token writes off the path")
            _ = try await traffic.budgets.create(userId: "pg-budget-\(run)", tokenId: nil, period: .month, maxCost: 1_000_000_000, maxTokens: nil)
            let leaseStatements = traffic.budgets.leaseStatements
            try await measureAsync(
                "traffic", "admit + settle: limits and a budget (PostgreSQL)", batch: 10, batches: 2_000,
                note: "budget headroom leased per instance (256 calls' estimates at a time), spending written in batches"
            ) {
                let admission = try await traffic.admit(
                    model: limited, candidates: [limited], userId: "pg-budget-\(run)", tokenId: "t1", promptBytes: canonicalBytes, maxOutputTokens: 256)
                // Each call really costs half its estimate, so the leases are used up and taken again as in use.
                traffic.settle(admission, cost: admission.estimatedCost / 2, tokens: admission.estimatedTokens / 2)
                return admission.estimatedTokens
            }
            await traffic.budgets.flush()
            let budgetRow = try await traffic.budgets.list(userId: "pg-budget-\(run)").first
            print(
                "             budget lease statements (take, write, hand back):", traffic.budgets.leaseStatements - leaseStatements,
                "· spent after the write:", budgetRow.map { String(format: "%.4f USD", $0.spent) } ?? "none")
            group.cancelAll()
        }
    }
}

if sink == 42 { print("") }

if let path = option("--json") {
    struct Report: Codable {
        let build: String
        let scale: Double
        let results: [Stats]
    }
    #if DEBUG
    let build = "debug"
    #else
    let build = "release"
    #endif
    let out = JSONEncoder()
    out.outputFormatting = [.prettyPrinted, .sortedKeys]
    try out.encode(Report(build: build, scale: scale, results: results)).write(to: URL(fileURLWithPath: path))
    print("wrote \(path)")
}
