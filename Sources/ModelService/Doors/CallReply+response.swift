import HTTPTypes
import Hummingbird
import ModelServiceCore
import NIOCore

extension Response {
    /// A door's answer: the whole JSON answer, or an event stream whose body the pipeline's one stream loop
    /// writes (and settles when it ends). Either names the registry model that answered.
    init(_ reply: CallReply) {
        switch reply {
        case .answer(let body, let model):
            var headers: HTTPFields = [.contentType: "application/json", .xModelServiceModel: model.name]
            if let deployment = model.deployment { headers[.xModelServiceDeployment] = deployment.id }
            self.init(status: .ok, headers: headers, body: .init(byteBuffer: body))
        case .stream(let stream):
            self = Response.eventStream(
                answeredBy: stream.model,
                body: ResponseBody { writer in
                    await stream.relay { frames in try await writer.write(frames) }
                    try await writer.finish(nil)
                })
        }
    }
}

extension HTTPField.Name {
    /// Names the user a service or admin token calls for.
    static let xUserId = Self("X-User-Id")!
    static let xTeamId = Self("X-Team-Id")!
    /// Names the registry model that answered (a fallback may have).
    static let xModelServiceModel = Self("X-Model-Service-Model")!
    /// Names the deployment of that model the answer came from.
    static let xModelServiceDeployment = Self("X-Model-Service-Deployment")!
    /// The client's own timeout in seconds, as the official OpenAI and Anthropic SDKs send it.
    static let xStainlessTimeout = Self("X-Stainless-Timeout")!
    static let anthropicVersion = Self("anthropic-version")!
    static let anthropicBeta = Self("anthropic-beta")!
}
