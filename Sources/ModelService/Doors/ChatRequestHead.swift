import NIOCore
import ModelServiceCore

/// The chat door's cheap read of a request that is relayed as sent (every candidate model speaks
/// OpenAI's format): the few fields the pipeline decides on, scanned from the top level of the
/// client's JSON. `messages` is checked to be a non-empty array and left as bytes; the upstream
/// validates the rest of the body, as it would for a direct call.
///
/// Decoding the whole request (every message, part and tool) was ~9% of a relayed call's
/// instructions; a request that needs translating is still decoded in full (``ChatCompletionRequest/init(from:)``).
extension ChatCompletionRequest {
    package init(relayHead bytes: ByteBuffer) throws(ServiceError) {
        guard let body = JSONObjectEditor(bytes) else {
            throw ServiceError(.invalidJSON, "The request body is not valid JSON: it must be one JSON object.")
        }
        guard let model = try Self.field("model", in: body, as: String.self, "a string") else { throw .invalidField("model", "is required") }
        guard let messages = body.rawValue("messages") else { throw .invalidField("messages", "is required") }
        guard messages.first == UInt8(ascii: "[") else { throw .invalidField("messages", "must be an array") }
        if messages.dropFirst().drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }).first == UInt8(ascii: "]") {
            throw .invalidField("messages", "must contain at least one message")
        }
        self.init(model: model, messages: [])
        stream = try Self.field("stream", in: body, as: Bool.self, "a boolean")
        temperature = try Self.field("temperature", in: body, as: Double.self, "a number")
        maxTokens = try Self.field("max_tokens", in: body, as: Int.self, "an integer")
        maxCompletionTokens = try Self.field("max_completion_tokens", in: body, as: Int.self, "an integer")
        // Bounded at the door like every client number (the output limits against the model, at admission).
        for (key, range) in Self.boundedFields {
            if let value = try Self.field(key, in: body, as: Int.self, "an integer"), !range.contains(value) {
                throw .invalidField(key, "must be from \(range.lowerBound) to \(range.upperBound)")
            }
        }
        user = try Self.field("user", in: body, as: String.self, "a string")
        if let options = body.presentValue("stream_options") {
            guard let editor = JSONObjectEditor(Array(options)) else { throw .invalidField("stream_options", "must be an object") }
            streamOptions = StreamOptions(includeUsage: try Self.field("include_usage", in: editor, as: Bool.self, "a boolean", path: "stream_options."))
        }
        clientJSON = bytes
    }

    /// OpenAI's own ranges for the integer fields the gateway passes on unread.
    package static let boundedFields: [(String, ClosedRange<Int>)] = [("n", 1...128), ("top_logprobs", 0...20)]

    /// An optional member: nil when absent or null, a 400 naming it when it has another type.
    private static func field<T: HeadField>(
        _ key: String, in body: JSONObjectEditor, as type: T.Type, _ expected: String, path: String = ""
    ) throws(ServiceError) -> T? {
        guard body.presentValue(key) != nil else { return nil }
        guard let value = T.read(key, from: body) else { throw .invalidField(path + key, "must be \(expected)") }
        return value
    }
}

/// A scalar the head reads, through the editor's concrete readers (a generic read from this module
/// would not be specialized in the core).
private protocol HeadField {
    static func read(_ key: String, from body: JSONObjectEditor) -> Self?
}

extension String: HeadField {
    fileprivate static func read(_ key: String, from body: JSONObjectEditor) -> String? { body.string(key) }
}

extension Bool: HeadField {
    fileprivate static func read(_ key: String, from body: JSONObjectEditor) -> Bool? { body.bool(key) }
}

extension Int: HeadField {
    fileprivate static func read(_ key: String, from body: JSONObjectEditor) -> Int? { body.int(key) }
}

extension Double: HeadField {
    fileprivate static func read(_ key: String, from body: JSONObjectEditor) -> Double? { body.double(key) }
}
