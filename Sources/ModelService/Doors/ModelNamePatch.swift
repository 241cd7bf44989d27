import NIOCore
import ModelServiceCore

/// Sets `model` in an upstream answer or chunk to the registry name the client knows, leaving
/// every other byte as the upstream sent it. Only the members up to `model` are scanned (it comes
/// near the head of OpenAI's answers and chunks); bytes without a top-level `model` go out as they came.
package enum ModelNamePatch {
    package static func apply(_ json: ByteBuffer, model name: String) -> ByteBuffer {
        JSONObjectEditor.replacingMember("model", in: json, with: JSONStringBytes.quoted(name)) ?? json
    }

    /// `data: <json patched>\n\n` in one buffer, for a stream's chunks; `quotedName` is the name as a
    /// JSON string (``JSONStringBytes/quoted(_:)``), worked out once per stream.
    package static func sseFrame(_ json: ByteBuffer, quotedName: [UInt8]) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.reserveCapacity(json.readableBytes + quotedName.count + 8)
        frame.writeStaticString("data: ")
        if let located = JSONObjectEditor.memberValue("model", in: json) {
            JSONObjectEditor.write(json, replacing: located, with: quotedName, into: &frame)
        } else {
            frame.writeImmutableBuffer(json)
        }
        frame.writeStaticString("\n\n")
        return frame
    }
}
