#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Random identifiers (version-4 UUIDs as lowercase text) from a pool of kernel random bytes.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every id: three system
/// calls, and the gateway makes two ids per call (request and usage record). The pool keeps the device
/// open and reads 4 KiB at a time, so 256 ids cost one system call. The bytes are as random as
/// `UUID()`'s (the same kernel generator); an id is never made from bytes another id used.
public enum RandomIdentifier {
    /// A random UUID, lowercase with dashes: `8-4-4-4-12` hex digits, version 4, RFC 4122 variant.
    public static func uuid() -> String {
        format(pool.withLock { $0.take() }, dashes: true)
    }

    /// The same 128 random bits as 32 lowercase hex digits, for prefixed ids (`chatcmpl-…`, `msg_…`).
    public static func hex() -> String {
        format(pool.withLock { $0.take() }, dashes: false)
    }

    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        static let size = 4096
        var bytes = [UInt8](repeating: 0, count: Pool.size)
        var next = Pool.size
        /// `/dev/urandom`, opened at the first id and kept for the life of the process.
        var device: Int32 = -2

        mutating func take() -> (UInt64, UInt64) {
            if next + 16 > Pool.size { refill() }
            defer { next += 16 }
            return bytes.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: next, as: UInt64.self), raw.loadUnaligned(fromByteOffset: next + 8, as: UInt64.self))
            }
        }

        private mutating func refill() {
            if device == -2 { device = open("/dev/urandom", O_RDONLY | O_CLOEXEC) }
            var filled = 0
            if device >= 0 {
                let device = device
                bytes.withUnsafeMutableBytes { raw in
                    while filled < Pool.size {
                        let count = read(device, raw.baseAddress! + filled, Pool.size - filled)
                        if count > 0 {
                            filled += count
                        } else if count < 0 && errno == EINTR {
                            continue
                        } else {
                            break
                        }
                    }
                }
            }
            // Without the device (a sandbox without /dev): the standard library's generator, eight bytes a call.
            var generator = SystemRandomNumberGenerator()
            while filled < Pool.size {
                withUnsafeBytes(of: generator.next()) { word in
                    for byte in word where filled < Pool.size {
                        bytes[filled] = byte
                        filled += 1
                    }
                }
            }
            next = 0
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func format(_ random: (UInt64, UInt64), dashes: Bool) -> String {
        // Version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
        var value = random
        withUnsafeMutableBytes(of: &value) { raw in
            raw[6] = (raw[6] & 0x0F) | 0x40
            raw[8] = (raw[8] & 0x3F) | 0x80
        }
        return withUnsafeBytes(of: value) { raw in
            String(unsafeUninitializedCapacity: dashes ? 36 : 32) { out in
                var index = 0
                for position in 0..<16 {
                    if dashes && (position == 4 || position == 6 || position == 8 || position == 10) {
                        out[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    out[index] = digits[Int(raw[position] >> 4)]
                    out[index + 1] = digits[Int(raw[position] & 0x0F)]
                    index += 2
                }
                return index
            }
        }
    }
}
