import Foundation

/// One frame of `application/vnd.amazon.eventstream`, as Bedrock's ConverseStream sends them.
package struct AWSEventStreamMessage: Sendable, Equatable {
    /// A typed header value; the raw values are the wire's value-type tags.
    package enum HeaderValue: Sendable, Hashable {
        case bool(Bool)
        case byte(Int8)
        case short(Int16)
        case int(Int32)
        case long(Int64)
        case bytes([UInt8])
        case string(String)
        /// Milliseconds since 1970-01-01T00:00:00Z.
        case timestamp(Int64)
        case uuid(UUID)

        /// The value-type tag on the wire: `bool` is 0 (true) or 1 (false), then 2...9 in case order.
        var typeTag: UInt8 {
            switch self {
            case .bool(let value): value ? 0 : 1
            case .byte: 2
            case .short: 3
            case .int: 4
            case .long: 5
            case .bytes: 6
            case .string: 7
            case .timestamp: 8
            case .uuid: 9
            }
        }

        package var stringValue: String? {
            if case .string(let value) = self { return value }
            return nil
        }
    }

    package let headers: [String: HeaderValue]
    package let payload: [UInt8]

    package init(headers: [String: HeaderValue], payload: [UInt8]) {
        self.headers = headers
        self.payload = payload
    }

    /// `:event-type`, e.g. `contentBlockDelta` or `messageStop`.
    package var eventType: String? { headers[":event-type"]?.stringValue }
    /// `:message-type`: `event`, or `exception` (then `exceptionType` names it and the payload holds the details).
    package var messageType: String? { headers[":message-type"]?.stringValue }
    /// `:exception-type`, e.g. `throttlingException`.
    package var exceptionType: String? { headers[":exception-type"]?.stringValue }
    /// `:content-type`, usually `application/json`.
    package var contentType: String? { headers[":content-type"]?.stringValue }
    /// An `error` message (`:error-code`/`:error-message`) is how the service reports a broken stream.
    package var errorCode: String? { headers[":error-code"]?.stringValue }
    package var errorMessage: String? { headers[":error-message"]?.stringValue }
}
