import NIOCore

/// Sets `model` in an upstream answer or chunk to the registry name the client knows, leaving
/// every other byte as the upstream sent it.
enum ModelNamePatch {
    static func apply(_ json: ByteBuffer, model name: String) -> ByteBuffer {
        guard var editor = JSONObjectEditor(json), editor.contains("model") else { return json }
        editor.set("model", name)
        return editor.result()
    }
}
