import HTTPTypes
import Hummingbird
import ModelServiceCore

extension Response {
    /// A streamed answer of any door: SSE, not cached or buffered by proxies, naming the model that answered.
    static func eventStream(answeredBy model: Model, body: ResponseBody) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no", .xModelServiceModel: model.name,
            ],
            body: body)
    }
}
