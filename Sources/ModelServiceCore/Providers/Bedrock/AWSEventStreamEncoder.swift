import Foundation

/// Frames messages in `application/vnd.amazon.eventstream`, so a fake Bedrock can stream ConverseStream events
/// exactly as the real one does (and tests can build frames the decoder must accept or reject).
package enum AWSEventStreamEncoder {
    /// A frame with string headers in the given order.
    package static func encode(headers: [(String, String)], payload: [UInt8]) throws(AWSEventStreamError) -> [UInt8] {
        try encode(typedHeaders: headers.map { (name: $0.0, value: .string($0.1)) }, payload: payload)
    }

    /// A Bedrock-style event: `:event-type`, `:content-type: application/json`, `:message-type: event`.
    package static func event(type: String, jsonPayload: [UInt8]) throws(AWSEventStreamError) -> [UInt8] {
        try encode(
            headers: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")],
            payload: jsonPayload)
    }

    /// A Bedrock-style exception (e.g. `throttlingException`) whose JSON payload carries `message`.
    package static func exception(type: String, jsonPayload: [UInt8]) throws(AWSEventStreamError) -> [UInt8] {
        try encode(
            headers: [(":exception-type", type), (":content-type", "application/json"), (":message-type", "exception")],
            payload: jsonPayload)
    }

    /// A frame with typed headers in the given order.
    package static func encode(
        typedHeaders: [(name: String, value: AWSEventStreamMessage.HeaderValue)], payload: [UInt8]
    ) throws(AWSEventStreamError) -> [UInt8] {
        var headerBytes: [UInt8] = []
        for (name, value) in typedHeaders {
            let nameBytes = Array(name.utf8)
            guard let nameLength = UInt8(exactly: nameBytes.count), nameLength > 0 else {
                throw .cannotEncode("header name must be 1...255 UTF-8 bytes, got \(nameBytes.count)")
            }
            headerBytes.append(nameLength)
            headerBytes += nameBytes
            headerBytes.append(value.typeTag)
            switch value {
            case .bool: break
            case .byte(let byte): headerBytes.append(UInt8(bitPattern: byte))
            case .short(let short): appendBigEndian(short, to: &headerBytes)
            case .int(let int): appendBigEndian(int, to: &headerBytes)
            case .long(let long), .timestamp(let long): appendBigEndian(long, to: &headerBytes)
            case .bytes(let bytes): try appendLengthPrefixed(bytes, name: name, to: &headerBytes)
            case .string(let string): try appendLengthPrefixed(Array(string.utf8), name: name, to: &headerBytes)
            case .uuid(let uuid): withUnsafeBytes(of: uuid.uuid) { headerBytes += $0 }
            }
        }
        // 12-byte prelude + headers + payload + 4-byte message CRC, all within UInt32.
        let (withHeaders, overflowA) = headerBytes.count.addingReportingOverflow(payload.count)
        let (totalLength, overflowB) = withHeaders.addingReportingOverflow(AWSEventStreamDecoder.minimumMessageLength)
        guard !overflowA, !overflowB, let total = UInt32(exactly: totalLength),
              let headersLength = UInt32(exactly: headerBytes.count)
        else { throw .cannotEncode("message of \(headerBytes.count) header and \(payload.count) payload bytes exceeds 4 GiB") }

        var frame: [UInt8] = []
        frame.reserveCapacity(totalLength)
        appendBigEndian(total, to: &frame)
        appendBigEndian(headersLength, to: &frame)
        appendBigEndian(CRC32.checksum(frame), to: &frame)
        frame += headerBytes
        frame += payload
        appendBigEndian(CRC32.checksum(frame), to: &frame)
        return frame
    }

    private static func appendLengthPrefixed(
        _ bytes: [UInt8], name: String, to output: inout [UInt8]
    ) throws(AWSEventStreamError) {
        guard let length = UInt16(exactly: bytes.count) else {
            throw .cannotEncode("header '\(name)' value is \(bytes.count) bytes; the limit is 65535")
        }
        appendBigEndian(length, to: &output)
        output += bytes
    }

    private static func appendBigEndian<Integer: FixedWidthInteger>(_ value: Integer, to output: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { output += $0 }
    }
}
