#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Runs Swift's global executor on the NIO event loops (Hummingbird and AsyncHTTPClient already use
/// the NIO singleton group), instead of hopping to Swift's thread pool and back on every await.
///
/// NIO's own takeover (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`)
/// runs each job *isolated to the loop's serial executor*; a task resumed that way then re-enqueues itself
/// at every hop back to the generic executor, which every call into a nonisolated async function is.
/// Callgrind counted ~172 such re-enqueues per gateway call (~10% of its instructions). Here a job runs
/// as what it is, a generic-executor job (Swift's `globalConcurrentExecutor`, whose task-executor
/// reference is the runtime's "undefined" one), on the loop's thread: those hops run inline.
public enum GenericJobsOnEventLoops {
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Swift's default global executor as a task executor: running a job "on" it sets no isolation
    /// and no task-executor preference, exactly as the default pool would run it.
    private static let generic = globalConcurrentExecutor.asUnownedTaskExecutor()

    /// Installs the hook. Must run on the main thread before the first task is created.
    public static func install() -> Bool {
        #if os(Linux)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else { return false }
        let hook = symbol.assumingMemoryBound(to: UnsafeRawPointer?.self)
        // Nothing else runs yet (main thread, before any task): a plain store is enough.
        guard hook.pointee == nil else { return false }
        _ = generic
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { slot in
            slot.baseAddress!.initialize(to: { job, _ in
                // `any()` is the current loop when called on one (no thread switch), else the next one.
                MultiThreadedEventLoopGroup.singleton.any().execute {
                    job.runSynchronously(on: GenericJobsOnEventLoops.generic)
                }
            })
            return slot.baseAddress!.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) { function in
                hook.pointee = function.pointee
                return true
            }
        }
        #else
        return false
        #endif
    }
}
