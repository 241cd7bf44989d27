import Foundation
import Testing

/// The tests' child processes cannot stall the run: a hung child and what it started are killed at the limit,
/// and children start with no signal blocked, so `terminate()` reaches them.
@Suite struct ChildProcessTests {
    /// The limit is well above the moment it takes `sh` to start and print, even on a loaded machine.
    @Test func aHungChildAndTheProcessItStartedAreKilledAtTheLimit() async throws {
        let (status, output) = try await ChildProcess.outputOffThePool(of: ["sh", "-c", "sleep 300 & echo $!; wait"], within: .seconds(10))
        #expect(status == -1)
        #expect(output.contains("[killed after"), "\(output)")
        let grandchild = try #require(output.split(separator: "\n").first.flatMap { Int32($0) }, "\(output)")
        let gone = try await eventually(timeout: .seconds(10)) { !Self.isAlive(grandchild) }
        #expect(gone != nil, "the background sleep outlived its group")
    }

    @Test func childrenStartWithNoSignalBlocked() throws {
        let (status, output) = try ChildProcess.output(of: ["grep", "SigBlk", "/proc/self/status"])
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("0000000000000000"), "\(output)")
    }

    /// Alive and not a zombie waiting for a reaper.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }
}
