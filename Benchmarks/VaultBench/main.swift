/// Micro-benchmark of the vault's per-record cost against the seed's scrypt-per-record design.
///
/// `swift run -c release VaultBench [--json PATH] [--iterations N] [--scrypt-iterations N]`
import Foundation
import ModelServiceCore

struct Stats: Codable {
    let operation: String
    let iterations: Int
    let meanMicroseconds: Double
    let p50Microseconds: Double
    let p99Microseconds: Double
}

func measure(_ name: String, iterations: Int, warmup: Int, _ body: () throws -> Void) rethrows -> Stats {
    for _ in 0..<warmup { try body() }
    var samples = [Double]()
    samples.reserveCapacity(iterations)
    let clock = ContinuousClock()
    for _ in 0..<iterations {
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        let (seconds, attoseconds) = elapsed.components
        samples.append(Double(seconds) * 1e6 + Double(attoseconds) / 1e12)
    }
    samples.sort()
    func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int((Double(samples.count) * p).rounded(.up)) - 1)] }
    return Stats(
        operation: name,
        iterations: iterations,
        meanMicroseconds: samples.reduce(0, +) / Double(samples.count),
        p50Microseconds: percentile(0.50),
        p99Microseconds: percentile(0.99)
    )
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

let iterations = option("--iterations").flatMap(Int.init) ?? 100_000
let scryptIterations = option("--scrypt-iterations").flatMap(Int.init) ?? 20
let secret = Secret("k3J9x-Tq7wZ2pL0vR8mN4bY6cH1sD5fG-benchmark-only")
let master = try MasterKey.derive(secret: secret, salt: MasterKey.makeInstallationSalt(), version: 1)
let cipher = KeyCipher(keyring: Keyring(only: master))
let binding = RecordBinding(keyId: "0b6c8f8e-7d1e-4c55-9a57-3f1f0c2f4d11", owner: "user-42", provider: "openai")
// A realistic key: OpenAI project keys are about 164 characters.
let apiKey = Secret("sk-proj-" + String(repeating: "AbCdEfGh12", count: 15) + "XyZ0123456")
let stored = try cipher.encrypt(apiKey, binding: binding)

var sink = 0
let decrypt = try measure("decrypt (HKDF + AES-GCM open)", iterations: iterations, warmup: 1_000) {
    sink &+= try cipher.decrypt(stored, binding: binding).reveal.utf8.count
}
let encrypt = try measure("encrypt (HKDF + AES-GCM seal)", iterations: iterations, warmup: 1_000) {
    sink &+= try cipher.encrypt(apiKey, binding: binding).utf8.count
}
let scrypt = try measure("scrypt per record (N=2^15, r=8, p=1)", iterations: scryptIterations, warmup: 1) {
    sink &+= try MasterKey.derive(secret: secret, salt: MasterKey.makeInstallationSalt(), version: 1, cost: .production).version
}
let ratio = scrypt.meanMicroseconds / decrypt.meanMicroseconds

for stats in [decrypt, encrypt, scrypt] {
    print(
        stats.operation.padding(toLength: 40, withPad: " ", startingAt: 0),
        String(format: "n=%-7d mean %10.2f µs  p50 %10.2f µs  p99 %10.2f µs", stats.iterations, stats.meanMicroseconds, stats.p50Microseconds, stats.p99Microseconds)
    )
}
print(String(format: "scrypt-per-record / decrypt (mean): %.0fx", ratio))
if sink == 42 { print("") }

if let path = option("--json") {
    struct Report: Codable {
        let results: [Stats]
        let scryptToDecryptRatio: Double
        let build: String
    }
    #if DEBUG
    let build = "debug"
    #else
    let build = "release"
    #endif
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(Report(results: [decrypt, encrypt, scrypt], scryptToDecryptRatio: ratio, build: build))
        .write(to: URL(fileURLWithPath: path))
    print("wrote \(path)")
}
