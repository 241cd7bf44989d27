import HTTPTypes
import Hummingbird
import ModelServiceCore

extension Response {
    /// A streamed answer of any door: SSE, not cached or buffered by proxies, naming the model that answered.
    static func eventStream(answeredBy model: Model, body: ResponseBody) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no", .xModelServiceModel: model.name,
        ]
        if let deployment = model.deployment { headers[.xModelServiceDeployment] = deployment.id }
        return Response(status: .ok, headers: headers, body: body)
    }
}
