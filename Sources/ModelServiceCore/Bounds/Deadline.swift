import Synchronization

/// Runs `operation` but stops waiting for it after `limit` (nil then).
///
/// Unlike a task group, the operation is not awaited past the limit, so a call stuck on a dead
/// database (a pool lease that ignores cancellation) cannot hold shutdown or a health answer. Use it
/// only for operations that are harmless if they finish later, such as idempotent writes or probes.
package func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
    let once = ResumeOnce<T?>()
    return await withCheckedContinuation { continuation in
        once.set(continuation)
        let timer = Task {
            try? await Task.sleep(for: limit)
            once.resume(nil)
        }
        Task {
            let value = await operation()
            // Resume before cancelling: a cancelled timer wakes at once and must find the value taken.
            once.resume(value)
            timer.cancel()
        }
    }
}

/// Resumes a continuation exactly once, from whichever of two tasks gets there first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    package func set(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    package func resume(_ value: T) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
