import Foundation

/// One operation's timings, as printed and written to `--json`.
struct Stats: Codable {
    let operation: String
    let group: String
    let batch: Int
    let calls: Int
    let meanMicroseconds: Double
    let p50Microseconds: Double
    let p99Microseconds: Double
    let note: String?
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

let scale = option("--scale").flatMap(Double.init) ?? 1.0
// Safe without isolation: every `measure`, `measureAsync` and `blackHole` call runs sequentially
// from main.swift's top-level code, so no two accesses ever overlap.
nonisolated(unsafe) var results: [Stats] = []
nonisolated(unsafe) var sink = 0

@inline(never)
func blackHole(_ value: Int) { sink &+= value }

/// Times `body` in `batches` batches of `batch` calls (scaled by `--scale`, after a tenth as warm-up)
/// and records mean, p50 and p99 per call.
func measure(_ group: String, _ name: String, batch: Int, batches: Int, note: String? = nil, _ body: () throws -> Int) rethrows {
    let batches = max(50, Int(Double(batches) * scale))
    for _ in 0..<max(10, batches / 10) * batch { blackHole(try body()) }
    var samples = [Double]()
    samples.reserveCapacity(batches)
    let clock = ContinuousClock()
    for _ in 0..<batches {
        let start = clock.now
        for _ in 0..<batch { blackHole(try body()) }
        samples.append(microseconds(clock.now - start) / Double(batch))
    }
    record(group, name, batch: batch, samples: samples, note: note)
}

/// Like `measure`, for async operations (admission and settlement await locks and, with a budget, SQL).
func measureAsync(_ group: String, _ name: String, batch: Int, batches: Int, note: String? = nil, _ body: () async throws -> Int) async rethrows {
    let batches = max(50, Int(Double(batches) * scale))
    for _ in 0..<max(10, batches / 10) * batch { blackHole(try await body()) }
    var samples = [Double]()
    samples.reserveCapacity(batches)
    let clock = ContinuousClock()
    for _ in 0..<batches {
        let start = clock.now
        for _ in 0..<batch { blackHole(try await body()) }
        samples.append(microseconds(clock.now - start) / Double(batch))
    }
    record(group, name, batch: batch, samples: samples, note: note)
}

private func microseconds(_ elapsed: Duration) -> Double {
    let (seconds, attoseconds) = elapsed.components
    return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
}

/// Adds one operation's per-call samples (µs) to `results` and prints its line.
private func record(_ group: String, _ name: String, batch: Int, samples: [Double], note: String?) {
    let mean = samples.reduce(0, +) / Double(samples.count)
    let sorted = samples.sorted()
    func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))] }
    let stats = Stats(
        operation: name, group: group, batch: batch, calls: batch * samples.count,
        meanMicroseconds: mean, p50Microseconds: percentile(0.5), p99Microseconds: percentile(0.99), note: note
    )
    results.append(stats)
    print(
        "\(group.padding(toLength: 12, withPad: " ", startingAt: 0)) \(name.padding(toLength: 52, withPad: " ", startingAt: 0))",
        String(format: "mean %9.3f µs  p50 %9.3f µs  p99 %9.3f µs  (batch %d)", mean, stats.p50Microseconds, stats.p99Microseconds, batch)
    )
}
