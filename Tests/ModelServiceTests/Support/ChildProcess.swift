import Foundation
import Synchronization

/// Starts and waits for the tests' child processes (the SDK scripts, the browser, the Claude Code CLI, the service's
/// own binary) so that none can stall the run: every wait has a deadline, past which the child and everything it
/// started are killed and the test fails with what it printed.
enum ChildProcess {
    private static let launching = Mutex(())

    /// Long enough for the slowest script (the console's browser flows) on a loaded 2-core machine.
    static let defaultLimit: Duration = .seconds(600)

    /// Launches `process` under one lock, with no signal blocked.
    /// - The lock: Foundation's `Process.run()` crashed once (SIGSEGV in a `memcpy` inside it) while two tests
    ///   launched processes at the same moment; launching one at a time costs nothing measurable.
    /// - The signal mask: a child inherits the mask of the thread that spawns it, and the threads of Swift's pool
    ///   block SIGTERM among others. A child started from one ignored `terminate()`, and so did whatever it started.
    static func run(_ process: Process) throws {
        try launching.withLock { _ in
            var none = sigset_t()
            var previous = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            try process.run()
        }
    }

    /// Starts `executable` with stdin empty and stdout and stderr in the file `output` (made empty first): a file,
    /// which a lingering grandchild cannot hold open the way it holds a pipe. `environment` nil inherits the tests'.
    static func start(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, output: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        // The child has its own copy once started; this one would only leak a descriptor per child.
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try run(process)
        return process
    }

    /// Runs `arguments` (found on the PATH) to its end with its output in a file (``start(_:_:environment:output:)``).
    /// Past `limit` the child's process group (Foundation starts each child in one of its own) is killed, and the
    /// output says so. Blocks the calling thread: call it from one of its own (``outputOffThePool(of:within:)``) when a
    /// server under test needs the cooperative pool.
    static func output(of arguments: [String], within limit: Duration = defaultLimit) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        let process = try start(URL(fileURLWithPath: "/usr/bin/env"), arguments, output: file)
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        let timedOut = process.isRunning
        if timedOut { killGroup(of: process) }
        let output = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return timedOut ? (-1, output + "\n[killed after \(limit): \(arguments.prefix(2).joined(separator: " "))]") : (process.terminationStatus, output)
    }

    /// ``output(of:within:)`` on a thread of its own: blocking one of the cooperative pool's few threads (two on a
    /// 2-core machine) while the gateway under test needs them stalls every test running beside it.
    static func outputOffThePool(of arguments: [String], within limit: Duration = defaultLimit) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try output(of: arguments, within: limit) }) }.start()
        }
    }

    /// Waits for a launched `process` without holding a thread; kills it past `limit` or when the test is cancelled.
    /// Returns whether it ended by itself.
    @discardableResult
    static func finish(_ process: Process, within limit: Duration = defaultLimit) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline, !Task.isCancelled else {
                killGroup(of: process)
                return false
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// SIGKILL to the process's group when it leads one (as Foundation's children do), else to the process alone;
    /// then a bounded wait for the kill to land.
    static func killGroup(of process: Process) {
        let pid = process.processIdentifier
        if getpgid(pid) == pid { kill(-pid, SIGKILL) } else { kill(pid, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
    }
}
