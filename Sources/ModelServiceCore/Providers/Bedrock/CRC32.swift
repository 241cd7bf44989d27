/// CRC-32 with the IEEE 802.3 polynomial (zlib's `crc32`), which guards event-stream preludes and messages.
///
/// Table-driven, one byte per step: fast enough for streamed model output and free of a zlib dependency.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    /// The CRC of `bytes`; pass an earlier result as `continuing` to checksum data that arrives in pieces.
    static func checksum(_ bytes: some Sequence<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        var crc = ~previous
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}
