import NIOCore
import ModelServiceCore

/// Sets `model` in an upstream answer or chunk to the registry name the client knows, leaving
/// every other byte as the upstream sent it. Only the members up to `model` are scanned (it comes
/// near the head of OpenAI's answers and chunks); bytes without a top-level `model` go out as they came.
package enum ModelNamePatch {
    package static func apply(_ json: ByteBuffer, model name: String) -> ByteBuffer {
        JSONObjectEditor.replacingMember("model", in: json, with: JSONStringBytes.quoted(name)) ?? json
    }
}
