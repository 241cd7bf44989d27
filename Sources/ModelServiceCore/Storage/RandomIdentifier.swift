#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Random identifiers (UUIDs as lowercase text) from a pool of kernel random bytes.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every id: three system
/// calls, and the gateway makes two ids per call (request and usage record). The pool keeps the device
/// open and reads 4 KiB at a time, so 256 ids cost one system call. The bytes are as random as
/// `UUID()`'s (the same kernel generator); an id is never made from bytes another id used.
public enum RandomIdentifier {
    /// A random UUID, lowercase with dashes: `8-4-4-4-12` hex digits, version 4, RFC 4122 variant.
    public static func uuid() -> String {
        format(pool.withLock { $0.take() }, version: 4, dashes: true)
    }

    /// A time-ordered UUID (version 7): milliseconds since 1970 in the first 48 bits, then 74 random bits.
    /// For the rows written on every call (usage records, request ids): consecutive ids land next to each
    /// other in an index instead of on a random page each, so a batch of rows dirties a few pages, not one
    /// per row. The id reveals when it was made, which the row or response says anyway.
    public static func timeOrderedUUID(nowMillis: Int64 = Clock.nowMillis()) -> String {
        var random = pool.withLock { $0.take() }
        // Big-endian milliseconds in bytes 0-5 (the first word is read back in memory order below).
        let millis = UInt64(truncatingIfNeeded: nowMillis) & 0xFFFF_FFFF_FFFF
        withUnsafeMutableBytes(of: &random.0) { raw in
            for index in 0..<6 { raw[index] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - index))) }
        }
        return format(random, version: 7, dashes: true)
    }

    /// The same 128 random bits as 32 lowercase hex digits, for prefixed ids (`chatcmpl-…`, `msg_…`).
    public static func hex() -> String {
        format(pool.withLock { $0.take() }, version: 4, dashes: false)
    }

    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        package static let size = 4096
        package var bytes = [UInt8](repeating: 0, count: Pool.size)
        package var next = Pool.size
        /// `/dev/urandom`, opened at the first id and kept for the life of the process.
        package var device: Int32 = -2

        package mutating func take() -> (UInt64, UInt64) {
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

    private static func format(_ random: (UInt64, UInt64), version: UInt8, dashes: Bool) -> String {
        // The version in the high nibble of byte 6, variant 10 in the top bits of byte 8.
        var value = random
        withUnsafeMutableBytes(of: &value) { raw in
            raw[6] = (raw[6] & 0x0F) | (version << 4)
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
