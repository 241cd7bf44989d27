#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Process-wide settings made before anything else runs.
enum ProcessSetup {
    #if os(Linux)
    /// glibc's `mallopt`, which the Glibc module map does not export (it lives in `<malloc.h>`).
    @_silgen_name("mallopt") private static func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
    private static let mallocArenaMax: Int32 = -8  // M_ARENA_MAX
    #endif

    /// Returns whether Swift tasks now run on the NIO event loops.
    @discardableResult
    static func apply() -> Bool {
        #if os(Linux)
        // glibc's default of 8 malloc arenas per core mostly holds freed memory under load; two
        // arenas keep the resident size down.
        _ = mallopt(mallocArenaMax, 2)
        #endif
        return GenericJobsOnEventLoops.install()
    }
}

/// Runs Swift's global executor on the NIO event loops (Hummingbird and AsyncHTTPClient already use
/// the NIO singleton group), instead of hopping to Swift's thread pool and back on every await.
///
/// NIO's own takeover (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`)
/// runs each job *isolated to the loop's serial executor*; a task resumed that way then re-enqueues itself
/// at every hop back to the generic executor, which every call into a nonisolated async function is.
/// Callgrind counted ~172 such re-enqueues per gateway call (~10% of its instructions). Here a job runs
/// as what it is, a generic-executor job (Swift's `globalConcurrentExecutor`, whose task-executor
/// reference is the runtime's "undefined" one), on the loop's thread: those hops run inline.
enum GenericJobsOnEventLoops {
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Swift's default global executor as a task executor: running a job "on" it sets no isolation
    /// and no task-executor preference, exactly as the default pool would run it.
    private static let generic = globalConcurrentExecutor.asUnownedTaskExecutor()

    /// Installs the hook. Must run on the main thread before the first task is created.
    static func install() -> Bool {
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
