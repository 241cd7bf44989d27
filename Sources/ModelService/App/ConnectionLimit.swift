import HummingbirdCore
import Logging
import ModelServiceCore

/// Stops accepting new connections while `MAX_CONNECTIONS` are open (they wait in the listen
/// backlog, or are refused by the kernel once it is full) and says so once each time the cap is reached.
struct ConnectionLimit: AvailableConnectionsDelegate {
    let maximum: Int
    let logger: Logger
    private var open = 0

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    mutating func connectionOpened() {
        open += 1
        if open == maximum {
            logger.warning("connection limit reached; new connections wait until one closes", metadata: ["limit": "\(maximum)"])
        }
    }

    mutating func connectionClosed() {
        open -= 1
    }

    func isAcceptingNewConnections() -> Bool {
        open < maximum
    }
}
