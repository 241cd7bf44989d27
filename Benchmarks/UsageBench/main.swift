/// The usage writer's cost per record, with the hourly and daily rollups and without them.
///
/// `swift run -c release --scratch-path .build-release UsageBench [--database URL] [--batches N] [--rounds N] [--users N]`
///
/// The writer takes the records queued in the last `USAGE_FLUSH_MS` (200 ms) and writes them in one
/// transaction. Here each batch is 200 records of now (1,000 users with three of 20 models each, as
/// Benchmarks/usage/generate.sql.in: nearly every record of a batch is a rollup row of its own, the
/// worst case; `--users 10` is traffic from a few services, where a batch folds into a few rows),
/// written three ways, round after round on one database:
/// - `rows`: the records' INSERT alone, the writer before rollups (the baseline);
/// - `rows + rollups`: `UsageRecorder.insertRows`, the writer now;
/// - `rows + rollups + late budget check`: plus the read of the budgets a call could not reserve on (and, on
///   PostgreSQL, their charge).
/// Prints microseconds per record (median of the rounds) and writes nothing else.
import Foundation
import Logging
import ModelServiceCore
import SQLKit

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let batchCount = option("--batches").flatMap(Int.init) ?? 100
let rounds = option("--rounds").flatMap(Int.init) ?? 5
let batchSize = 200
let users = max(1, option("--users").flatMap(Int.init) ?? 1_000)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("usage-bench-\(UUID().uuidString)").path
let url = option("--database") ?? "sqlite://\(directory)/usage.sqlite"
var logger = Logger(label: "usage-bench")
logger.logLevel = .warning

func batch(_ serial: Int) -> [UsageRecord] {
    (0..<batchSize).map { index in
        let g = serial * batchSize + index
        let user = (g * 7919) % users
        let model = (user * 7 + (g % 3) * 5) % 20
        var record = UsageRecord(
            userId: "user-\(user)", tokenId: "token-\(user)", model: "model-\(model)", provider: [.openai, .anthropic, .gemini, .deepseek][model % 4],
            status: g % 50 == 0 ? 429 : 200)
        record.keyId = "key-\(model % 4)"
        record.keySource = "shared"
        record.promptTokens = 200 + (g * 31) % 3000
        record.completionTokens = 50 + (g * 17) % 800
        record.cost = Double(record.promptTokens * 3 + record.completionTokens * 15) / 1_000_000
        record.latencyMs = 100 + (g * 13) % 2000
        return record
    }
}

enum Variant: String, CaseIterable {
    case rows = "rows (before rollups)"
    case rollups = "rows + rollups"
    case lateCharges = "rows + rollups + late budget check"
}

let location = try DatabaseLocation.parse(url, dataDirectory: directory)
let database = try await Database.open(location, logger: logger)
let results = try await database.withRunning { database in
    try await Migrations.run(on: database)
    var serial = 0
    var perRecord: [Variant: [Double]] = [:]
    let variants = Variant.allCases
    for _ in 0..<rounds {
        for variant in variants {
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                for _ in 0..<batchCount {
                    let records = batch(serial)
                    serial += 1
                    try await database.transaction { sql in
                        switch variant {
                        case .rows:
                            _ = try await sql.raw("\(UsageRowsInsert(records[...], dialect: database.dialect))").all()
                        case .rollups:
                            _ = try await UsageRecorder.insertRows(records, dialect: database.dialect, on: sql)
                        case .lateCharges:
                            let inserted = try await UsageRecorder.insertRows(records, dialect: database.dialect, on: sql)
                            let owed = try await LateBudgetCharges.owed(by: inserted, dialect: database.dialect, on: sql)
                            if database.dialect == .postgres { _ = try await LateBudgetCharges.charge(owed, on: sql) }
                        }
                    }
                }
            }
            let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
            perRecord[variant, default: []].append(micros / Double(batchCount * batchSize))
        }
    }
    return variants.map { variant in (variant, perRecord[variant]!.sorted()[rounds / 2]) }
}
print("| \(location.dialect == .postgres ? "PostgreSQL" : "SQLite"), \(users) users: usage write | µs per record | vs rows |")
print("|---|---|---|")
let base = results.first!.1
for (variant, micros) in results {
    print(String(format: "| %@ | %.1f | %.2f× |", variant.rawValue, micros, micros / base))
}
try? FileManager.default.removeItem(atPath: directory)
