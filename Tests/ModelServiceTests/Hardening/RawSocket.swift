import Foundation
import Glibc

/// A blocking TCP socket to loopback, for tests that must send partial requests or watch a server close.
final class RawSocket: Sendable {
    private let fd: Int32

    init(port: Int, receiveTimeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw TestFailure("connect() failed")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw TestFailure("send() failed") }
    }

    enum ReadResult: Equatable {
        case data(String)
        /// The server closed the connection (or reset it).
        case closed
        /// Nothing arrived within the receive timeout: the connection is still open.
        case timedOut
    }

    /// One read, on a thread of its own: a blocking `recv` must never hold one of the few threads
    /// that run Swift tasks (the server under test needs them to answer).
    func read() async -> ReadResult {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.readBlocking()) }.start()
        }
    }

    private func readBlocking() -> ReadResult {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { return .data(String(decoding: buffer[0..<count], as: UTF8.self)) }
        if count == 0 { return .closed }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closed
    }

    /// Reads until the server closes or goes quiet; returns what ended it.
    func readUntilClosedOrQuiet() async -> ReadResult {
        while true {
            let result = await read()
            if case .data = result { continue }
            return result
        }
    }
}
