import Foundation
import NIOCore

/// Why an event stream could not be framed or decoded. After one of these the stream is unusable: frame
/// boundaries are lost, so the decoder keeps failing with the same error.
package enum AWSEventStreamError: Error, Equatable, CustomStringConvertible {
    case messageTooShort(declaredLength: UInt32)
    case messageTooLong(declaredLength: UInt32, limit: Int)
    case headersExceedMessage(headersLength: UInt32, totalLength: UInt32)
    case preludeCRCMismatch(expected: UInt32, computed: UInt32)
    case messageCRCMismatch(expected: UInt32, computed: UInt32)
    case malformedHeader(String)
    /// The encoder was given something the format cannot carry (e.g. a header name over 255 bytes).
    case cannotEncode(String)

    package var description: String {
        func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
        return switch self {
        case .messageTooShort(let length):
            "event stream: message declares \(length) bytes, below the 16-byte minimum"
        case .messageTooLong(let length, let limit):
            "event stream: message declares \(length) bytes, over the \(limit)-byte limit"
        case .headersExceedMessage(let headers, let total):
            "event stream: headers length \(headers) does not fit in a \(total)-byte message"
        case .preludeCRCMismatch(let expected, let computed):
            "event stream: prelude CRC mismatch (frame says \(hex(expected)), computed \(hex(computed)))"
        case .messageCRCMismatch(let expected, let computed):
            "event stream: message CRC mismatch (frame says \(hex(expected)), computed \(hex(computed)))"
        case .malformedHeader(let detail): "event stream: malformed header: \(detail)"
        case .cannotEncode(let detail): "event stream: cannot encode: \(detail)"
        }
    }
}

/// Incremental decoder of `application/vnd.amazon.eventstream` frames:
/// `total length (u32) | headers length (u32) | prelude CRC (u32) | headers | payload | message CRC (u32)`.
///
/// Feed bytes as they arrive with `append`, then call `next()` until it returns nil. Bytes are kept in one
/// `ByteBuffer` consumed by reader index and compacted only when the consumed part outweighs the rest, so the
/// total work is linear in the stream. A prelude is validated as soon as its 12 bytes are in, so a bad or
/// oversized length fails before the frame it announces is buffered.
package struct AWSEventStreamDecoder: Sendable {
    package static let preludeLength = 12
    package static let minimumMessageLength = 16

    /// Frames declaring more than this are refused; Bedrock's events are a few KiB.
    package let maximumMessageLength: Int
    private var buffer: ByteBuffer
    private var failure: AWSEventStreamError?

    package init(maximumMessageLength: Int = 1 << 20) {
        self.maximumMessageLength = max(Self.minimumMessageLength, maximumMessageLength)
        self.buffer = ByteBufferAllocator().buffer(capacity: 0)
    }

    /// Bytes received but not yet returned as messages.
    package var bufferedByteCount: Int { buffer.readableBytes }

    package mutating func append(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        compactIfWorthwhile()
        buffer.writeBytes(bytes)
    }

    package mutating func append(_ bytes: ByteBuffer) {
        guard failure == nil else { return }
        compactIfWorthwhile()
        buffer.writeImmutableBuffer(bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    package mutating func next() throws(AWSEventStreamError) -> AWSEventStreamMessage? {
        if let failure { throw failure }
        do {
            return try decodeNextMessage()
        } catch {
            failure = error
            buffer.clear()  // nothing after a framing error can be trusted; free the memory now
            throw error
        }
    }

    private mutating func decodeNextMessage() throws(AWSEventStreamError) -> AWSEventStreamMessage? {
        let start = buffer.readerIndex
        guard let prelude = buffer.getBytes(at: start, length: Self.preludeLength),
              let totalLength = buffer.getInteger(at: start, as: UInt32.self),
              let headersLength = buffer.getInteger(at: start + 4, as: UInt32.self),
              let preludeCRC = buffer.getInteger(at: start + 8, as: UInt32.self)
        else { return nil }

        let computedPreludeCRC = CRC32.checksum(prelude.prefix(8))
        guard computedPreludeCRC == preludeCRC else {
            throw .preludeCRCMismatch(expected: preludeCRC, computed: computedPreludeCRC)
        }
        guard totalLength >= Self.minimumMessageLength else { throw .messageTooShort(declaredLength: totalLength) }
        guard UInt64(totalLength) <= UInt64(maximumMessageLength) else {
            throw .messageTooLong(declaredLength: totalLength, limit: maximumMessageLength)
        }
        guard headersLength <= totalLength - UInt32(Self.minimumMessageLength) else {
            throw .headersExceedMessage(headersLength: headersLength, totalLength: totalLength)
        }
        // Both now fit in Int: totalLength is at most maximumMessageLength, headersLength is below it.
        let total = Int(totalLength)
        let headersCount = Int(headersLength)
        guard buffer.readableBytes >= total else { return nil }

        let checkedLength = total - 4
        let computedMessageCRC = buffer.withUnsafeReadableBytes { bytes in
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<checkedLength]))
        }
        guard let messageCRC = buffer.getInteger(at: start + checkedLength, as: UInt32.self),
              let headerSection = buffer.getSlice(at: start + Self.preludeLength, length: headersCount),
              let payload = buffer.getBytes(
                  at: start + Self.preludeLength + headersCount,
                  length: checkedLength - Self.preludeLength - headersCount)
        else { return nil }  // unreachable: `total` bytes are readable
        guard computedMessageCRC == messageCRC else {
            throw .messageCRCMismatch(expected: messageCRC, computed: computedMessageCRC)
        }
        let headers = try Self.decodeHeaders(headerSection)
        buffer.moveReaderIndex(forwardBy: total)
        return AWSEventStreamMessage(headers: headers, payload: payload)
    }

    /// Each header: name length (u8), UTF-8 name, value type (u8), value. Anything short or unknown throws.
    static func decodeHeaders(
        _ section: ByteBuffer
    ) throws(AWSEventStreamError) -> [String: AWSEventStreamMessage.HeaderValue] {
        var section = section
        var headers: [String: AWSEventStreamMessage.HeaderValue] = [:]
        while section.readableBytes > 0 {
            guard let nameLength = section.readInteger(as: UInt8.self), nameLength > 0,
                  let nameBytes = section.readBytes(length: Int(nameLength)),
                  let name = String(validating: nameBytes, as: UTF8.self)
            else { throw .malformedHeader("header name is empty, truncated or not UTF-8") }
            guard let type = section.readInteger(as: UInt8.self) else {
                throw .malformedHeader("header '\(name)' has no value type")
            }
            let value: AWSEventStreamMessage.HeaderValue?
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2: value = section.readInteger(as: Int8.self).map { .byte($0) }
            case 3: value = section.readInteger(as: Int16.self).map { .short($0) }
            case 4: value = section.readInteger(as: Int32.self).map { .int($0) }
            case 5: value = section.readInteger(as: Int64.self).map { .long($0) }
            case 6:
                value = section.readInteger(as: UInt16.self)
                    .flatMap { section.readBytes(length: Int($0)) }.map { .bytes($0) }
            case 7:
                guard let length = section.readInteger(as: UInt16.self),
                      let bytes = section.readBytes(length: Int(length))
                else { value = nil; break }
                guard let string = String(validating: bytes, as: UTF8.self) else {
                    throw .malformedHeader("header '\(name)' string value is not UTF-8")
                }
                value = .string(string)
            case 8: value = section.readInteger(as: Int64.self).map { .timestamp($0) }
            case 9:
                value = section.readBytes(length: 16).map { bytes in
                    .uuid(UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                      bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15])))
                }
            default:
                throw .malformedHeader("header '\(name)' has unknown value type \(type)")
            }
            guard let value else { throw .malformedHeader("header '\(name)' value runs past the headers section") }
            guard headers.updateValue(value, forKey: name) == nil else {
                throw .malformedHeader("header '\(name)' appears twice")
            }
        }
        return headers
    }

    /// Drops consumed bytes once they outnumber the unread ones, so each byte is moved at most about once.
    private mutating func compactIfWorthwhile() {
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex >= 4096, buffer.readerIndex >= buffer.readableBytes {
            buffer.discardReadBytes()
        }
    }
}
