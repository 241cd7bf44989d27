import ModelService
import ModelServiceCore

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
