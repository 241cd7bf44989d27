import Foundation
import Hummingbird

/// JSON and SSE framing for the fakes: requests parsed with JSONSerialization, answers written by `FakeJSONWriter`.
enum FakeJSON {
    static func parseObject(_ buffer: ByteBuffer) -> [String: Any]? {
        guard buffer.readableBytes > 0 else { return nil }
        let data = Data(buffer.readableBytesView)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    static func buffer(_ object: Any) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(256)
        FakeJSONWriter.write(object, into: &out)
        return out
    }

    static func response(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: buffer(object)))
    }

    /// One SSE event: `event: <name>` when named (Anthropic), then `data: <json>` and a blank line.
    static func sseEvent(_ object: Any, event: String? = nil) -> ByteBuffer {
        var out = ByteBuffer()
        if let event { out.writeString("event: \(event)\n") }
        out.writeString("data: ")
        var json = buffer(object)
        out.writeBuffer(&json)
        out.writeString("\n\n")
        return out
    }

    /// One newline-terminated JSON object, the line format of Ollama streams.
    static func line(_ object: Any) -> ByteBuffer {
        var out = buffer(object)
        out.writeString("\n")
        return out
    }
}
