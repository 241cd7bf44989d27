import Foundation
import NIOCore
import Testing

@testable import ModelServiceCore

/// A frame with the given prelude fields and body, with correct CRCs unless told otherwise.
private func rawFrame(totalLength: UInt32, headersLength: UInt32, body: [UInt8] = []) -> [UInt8] {
    var frame: [UInt8] = []
    for field in [totalLength, headersLength] { withUnsafeBytes(of: field.bigEndian) { frame += $0 } }
    withUnsafeBytes(of: CRC32.checksum(frame).bigEndian) { frame += $0 }
    frame += body
    withUnsafeBytes(of: CRC32.checksum(frame).bigEndian) { frame += $0 }
    return frame
}

private func bytes(fromHex hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).compactMap { index in
        UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)
    }
}

/// The error a fresh decoder reports for `frame`, or nil if it decodes (or waits for more bytes).
private func firstError(decoding frame: some Collection<UInt8>) -> AWSEventStreamError? {
    var decoder = AWSEventStreamDecoder()
    decoder.append(frame)
    do {
        while try decoder.next() != nil {}
        return nil
    } catch {
        return error
    }
}

extension AWSEventStreamError {
    var isPreludeCRCMismatch: Bool { if case .preludeCRCMismatch = self { true } else { false } }
    var isMessageCRCMismatch: Bool { if case .messageCRCMismatch = self { true } else { false } }
}

private func decodeAll(_ bytes: [UInt8], chunkSize: Int) throws -> [AWSEventStreamMessage] {
    var decoder = AWSEventStreamDecoder()
    var messages: [AWSEventStreamMessage] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + chunkSize, bytes.count)
        decoder.append(bytes[offset..<end])
        offset = end
        while let message = try decoder.next() { messages.append(message) }
    }
    #expect(decoder.bufferedByteCount == 0)
    return messages
}

@Suite("AWS event stream")
struct AWSEventStreamTests {
    @Test func crc32IsZlibs() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("56789".utf8), continuing: CRC32.checksum(Array("1234".utf8))) == 0xCBF4_3926)
    }

    /// awslabs/aws-c-event-stream tests/message_deserializer_test.c (test_outgoing_no_op_valid,
    /// ..._application_data_no_headers_valid, ..._application_one_compressed_header_pair_valid).
    @Test func publishedAwsCFrames() throws {
        let noOp: [UInt8] = [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff]
        let noHeaders: [UInt8] = [
            0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a, 0x7b, 0x27, 0x66, 0x6f, 0x6f, 0x27,
            0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d, 0xc3, 0x65, 0x39, 0x36,
        ]
        let oneHeader: [UInt8] = [0x00, 0x00, 0x00, 0x3D, 0x00, 0x00, 0x00, 0x20, 0x07, 0xFD, 0x83, 0x96, 0x0C]
            + Array("content-type".utf8) + [0x07, 0x00, 0x10] + Array("application/json".utf8)
            + [0x7b, 0x27, 0x66, 0x6f, 0x6f, 0x27, 0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d, 0x8D, 0x9C, 0x08, 0xB1]

        let messages = try decodeAll(noOp + noHeaders + oneHeader, chunkSize: 5)
        #expect(messages == [
            AWSEventStreamMessage(headers: [:], payload: []),
            AWSEventStreamMessage(headers: [:], payload: Array("{'foo':'bar'}".utf8)),
            AWSEventStreamMessage(headers: ["content-type": .string("application/json")], payload: Array("{'foo':'bar'}".utf8)),
        ])
        #expect(try AWSEventStreamEncoder.encode(headers: [], payload: []) == noOp)
        #expect(try AWSEventStreamEncoder.encode(headers: [], payload: Array("{'foo':'bar'}".utf8)) == noHeaders)
        #expect(try AWSEventStreamEncoder.encode(
            headers: [("content-type", "application/json")], payload: Array("{'foo':'bar'}".utf8)) == oneHeader)
    }

    /// smithy-lang/smithy-typescript packages/eventstream-codec/src/TestVectors.fixture.ts `all_headers`
    /// (the same vectors as aws-sdk-js-v3 and aws-sdk-go's testdata): one header of every value type.
    static let allHeadersFrame = bytes(fromHex:
        "000000cc000000af0fae64ca0a6576656e742d74797065040000a00c0c636f6e74656e742d747970650700106170706c"
        + "69636174696f6e2f6a736f6e0a626f6f6c2066616c73650109626f6f6c207472756500046279746502cf086279746520"
        + "62756606001449276d2061206c6974746c6520746561706f74210974696d657374616d70080000000000845fed05696e"
        + "74313603002a05696e7436340500000000028757b20475756964090102030405060708090a0b0c0d0e0f107b27666f6f"
        + "273a27626172277daba5f10c")
    static let allHeaders: [(name: String, value: AWSEventStreamMessage.HeaderValue)] = [
        ("event-type", .int(40972)), ("content-type", .string("application/json")), ("bool false", .bool(false)),
        ("bool true", .bool(true)), ("byte", .byte(-49)), ("byte buf", .bytes(Array("I'm a little teapot!".utf8))),
        ("timestamp", .timestamp(8_675_309)), ("int16", .short(42)), ("int64", .long(42_424_242)),
        ("uuid", .uuid(UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)))),
    ]

    @Test func publishedAllHeadersVector() throws {
        let frame = Self.allHeadersFrame
        #expect(frame.count == 204)
        #expect(Array(frame.suffix(4)) == [171, 165, 241, 12])  // the published message CRC
        let decoded = try #require(try decodeAll(frame, chunkSize: 1).first)
        #expect(decoded.headers == Dictionary(uniqueKeysWithValues: Self.allHeaders.map { ($0.name, $0.value) }))
        #expect(decoded.payload == Array("{'foo':'bar'}".utf8))
        #expect(try AWSEventStreamEncoder.encode(typedHeaders: Self.allHeaders, payload: decoded.payload) == frame)
    }

    /// The same fixture's `int32_header` and its four `expectation: "failure"` frames, which are
    /// payload_one_str_header / payload_no_headers with one byte changed.
    @Test func publishedInt32AndCorruptedVectors() throws {
        let int32 = bytes(fromHex:
            "0000002d0000001041c424b80a6576656e742d74797065040000a00c7b27666f6f273a27626172277d36f480a0")
        #expect(try decodeAll(int32, chunkSize: 3).first?.headers == ["event-type": .int(40972)])

        let oneString = try AWSEventStreamEncoder.encode(
            headers: [("content-type", "application/json")], payload: Array("{'foo':'bar'}".utf8))
        let noHeaders = try AWSEventStreamEncoder.encode(headers: [], payload: Array("{'foo':'bar'}".utf8))
        func corrupted(_ frame: [UInt8], at index: Int, to byte: UInt8) -> [UInt8] {
            var copy = frame
            copy[index] = byte
            return copy
        }
        let cases: [(name: String, frame: [UInt8], isPreludeError: Bool)] = [
            ("corrupted_headers", corrupted(oneString, at: 45, to: 97), false),
            ("corrupted_header_len", corrupted(oneString, at: 7, to: 33), true),
            ("corrupted_length", corrupted(oneString, at: 3, to: 62), true),
            ("corrupted_payload", corrupted(noHeaders, at: 12, to: 91), false),
        ]
        for testCase in cases {
            let error = firstError(decoding: testCase.frame)
            #expect(testCase.isPreludeError ? error?.isPreludeCRCMismatch == true : error?.isMessageCRCMismatch == true,
                    "\(testCase.name): \(String(describing: error))")
        }
    }

    @Test func bedrockEventRoundTripsOneByteAtATime() throws {
        let events = try (0..<3).map { index in
            try AWSEventStreamEncoder.event(
                type: "contentBlockDelta", jsonPayload: Array(#"{"delta":{"text":"part \#(index)"}}"#.utf8))
        }
        let exception = try AWSEventStreamEncoder.exception(
            type: "throttlingException", jsonPayload: Array(#"{"message":"slow down"}"#.utf8))
        let messages = try decodeAll(events.flatMap { $0 } + exception, chunkSize: 1)
        #expect(messages.count == 4)
        #expect(messages[2].eventType == "contentBlockDelta")
        #expect(messages[2].messageType == "event")
        #expect(messages[2].contentType == "application/json")
        #expect(String(decoding: messages[2].payload, as: UTF8.self) == #"{"delta":{"text":"part 2"}}"#)
        #expect(messages[3].messageType == "exception")
        #expect(messages[3].exceptionType == "throttlingException")
        #expect(messages[3].eventType == nil)
    }

    @Test func byteBufferInputAndPartialFrames() throws {
        let frame = try AWSEventStreamEncoder.event(type: "messageStop", jsonPayload: Array(#"{"stopReason":"end_turn"}"#.utf8))
        var decoder = AWSEventStreamDecoder()
        decoder.append(ByteBuffer(bytes: frame[..<11]))
        #expect(try decoder.next() == nil)
        decoder.append(ByteBuffer(bytes: frame[11..<(frame.count - 1)]))
        #expect(try decoder.next() == nil)
        decoder.append(ByteBuffer(bytes: frame[(frame.count - 1)...]))
        #expect(try decoder.next()?.eventType == "messageStop")
        #expect(try decoder.next() == nil)
    }

    @Test func corruptedPayloadFailsTheMessageCRC() throws {
        var frame = try AWSEventStreamEncoder.event(type: "x", jsonPayload: Array("{}".utf8))
        frame[frame.count - 5] ^= 0x01
        var decoder = AWSEventStreamDecoder()
        decoder.append(frame)
        let error = #expect(throws: AWSEventStreamError.self) { _ = try decoder.next() }
        #expect(error?.isMessageCRCMismatch == true)
        #expect(error.map { "\($0)" }?.contains("message CRC mismatch") == true)
        // The stream is dead from here on: same error, and further bytes are not buffered.
        decoder.append(frame)
        #expect(decoder.bufferedByteCount == 0)
        #expect(throws: AWSEventStreamError.self) { _ = try decoder.next() }
    }

    @Test func corruptedPreludeFailsThePreludeCRC() throws {
        var frame = try AWSEventStreamEncoder.event(type: "x", jsonPayload: Array("{}".utf8))
        frame[3] ^= 0x04
        let error = firstError(decoding: frame.prefix(12))  // the prelude alone is enough to tell
        #expect(error?.isPreludeCRCMismatch == true)
        #expect(error.map { "\($0)" }?.contains("prelude CRC mismatch") == true)
    }

    @Test func oversizedOrUndersizedDeclaredLengthFailsBeforeBuffering() throws {
        var decoder = AWSEventStreamDecoder(maximumMessageLength: 1 << 20)
        decoder.append(rawFrame(totalLength: (1 << 20) + 1, headersLength: 0).prefix(12))
        #expect(throws: AWSEventStreamError.messageTooLong(declaredLength: (1 << 20) + 1, limit: 1 << 20)) {
            _ = try decoder.next()
        }
        #expect(decoder.bufferedByteCount == 0)

        var huge = AWSEventStreamDecoder()
        huge.append(rawFrame(totalLength: .max, headersLength: .max).prefix(12))
        #expect(throws: AWSEventStreamError.messageTooLong(declaredLength: .max, limit: 1 << 20)) { _ = try huge.next() }

        var short = AWSEventStreamDecoder()
        short.append(rawFrame(totalLength: 15, headersLength: 0).prefix(12))
        #expect(throws: AWSEventStreamError.messageTooShort(declaredLength: 15)) { _ = try short.next() }
    }

    @Test func headersLongerThanTheMessageFail() throws {
        var decoder = AWSEventStreamDecoder()
        decoder.append(rawFrame(totalLength: 20, headersLength: 5, body: [1, 2, 3, 4]).prefix(12))
        #expect(throws: AWSEventStreamError.headersExceedMessage(headersLength: 5, totalLength: 20)) {
            _ = try decoder.next()
        }
        var maxed = AWSEventStreamDecoder()
        maxed.append(rawFrame(totalLength: 16, headersLength: .max))
        #expect(throws: AWSEventStreamError.headersExceedMessage(headersLength: .max, totalLength: 16)) {
            _ = try maxed.next()
        }
    }

    @Test("malformed headers throw", arguments: [
        [0x00, 0x07],  // empty name
        [0x01, 0x61, 0x2A],  // unknown type 42
        [0x01, 0x61],  // no type
        [0x01, 0x61, 0x07, 0x00, 0x05, 0x61],  // string runs past the section
        [0x01, 0x61, 0x07, 0x00, 0x01, 0xFF],  // string not UTF-8
        [0x01, 0xC3, 0x00],  // name not UTF-8
        [0x01, 0x61, 0x05, 0x00, 0x00],  // int64 truncated
        [0x01, 0x61, 0x09, 0x00],  // uuid truncated
        [0x01, 0x61, 0x00, 0x01, 0x61, 0x01],  // duplicate name
    ] as [[UInt8]])
    func malformedHeaders(_ headerSection: [UInt8]) throws {
        let error = firstError(decoding: rawFrame(
            totalLength: UInt32(16 + headerSection.count), headersLength: UInt32(headerSection.count),
            body: headerSection))
        guard case .malformedHeader = error else {
            Issue.record("expected malformedHeader, got \(String(describing: error))")
            return
        }
    }

    @Test func encoderRefusesWhatTheFormatCannotCarry() {
        #expect(throws: AWSEventStreamError.self) {
            try AWSEventStreamEncoder.encode(headers: [(String(repeating: "n", count: 256), "v")], payload: [])
        }
        #expect(throws: AWSEventStreamError.self) {
            try AWSEventStreamEncoder.encode(headers: [("", "v")], payload: [])
        }
        #expect(throws: AWSEventStreamError.self) {
            try AWSEventStreamEncoder.encode(headers: [("n", String(repeating: "v", count: 65_536))], payload: [])
        }
    }

    /// Structural linearity: one pass, small chunks, buffer compacted as it goes; no timing asserted.
    @Test func tenThousandSmallMessages() throws {
        var stream: [UInt8] = []
        for index in 0..<10_000 {
            stream += try AWSEventStreamEncoder.event(type: "contentBlockDelta", jsonPayload: Array("\(index)".utf8))
        }
        let messages = try decodeAll(stream, chunkSize: 997)
        #expect(messages.count == 10_000)
        #expect(messages.last?.payload == Array("9999".utf8))
        #expect(try decodeAll(stream, chunkSize: stream.count).count == 10_000)
    }
}
