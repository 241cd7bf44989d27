import Dispatch

// A synchronous entry point that waits for the command, instead of Swift's `async` main: that one
// parks the main thread in `dispatch_main`, on which valgrind 3.19 (Debian 12) crashes before the
// first line runs, so the service could not be profiled with callgrind. Same command, same exit codes.
ProcessSetup.apply()
let commandFinished = DispatchSemaphore(value: 0)
Task.detached {
    await ModelServiceCommand.runAsRoot()
    commandFinished.signal()
}
commandFinished.wait()
