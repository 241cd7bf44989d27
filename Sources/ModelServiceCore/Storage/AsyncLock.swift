/// A first-come first-served async mutex whose waiters can be cancelled.
///
/// SQLite runs on one connection; statements of one transaction must not interleave with another
/// task's, so every use of the connection takes this lock. A waiter whose task is cancelled (the
/// service group ending) leaves the queue at once with `CancellationError`, so no service waits for
/// ever behind a holder that is itself stuck.
package actor AsyncLock {
    private var isLocked = false
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextWaiter: UInt64 = 0

    package func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        if !isLocked {
            isLocked = true
            return
        }
        let id = nextWaiter
        nextWaiter &+= 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// A cancelled waiter still queued leaves; one already handed the lock keeps it (and releases it as usual).
    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private func release() {
        if waiters.isEmpty {
            isLocked = false
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }
}
