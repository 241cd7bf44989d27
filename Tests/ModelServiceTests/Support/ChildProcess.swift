import Foundation
import Synchronization

/// Starts child processes one at a time. Foundation's `Process.run()` crashed once (SIGSEGV in a
/// `memcpy` inside it) while two tests launched processes at the same moment; launching under one lock
/// costs nothing measurable and rules that race out.
enum ChildProcess {
    private static let launching = Mutex(())

    static func run(_ process: Process) throws {
        try launching.withLock { _ in try process.run() }
    }
}
