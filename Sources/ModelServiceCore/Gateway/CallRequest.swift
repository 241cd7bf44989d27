import NIOCore

/// A client's call as its front door read it, before admission: who asks, for which model, the client's
/// bytes, the few fields the pipeline decides on, and the door's codec.
package struct CallRequest: Sendable {
    package var door: Call.Door
    package var principal: Principal
    package var modelName: String
    package var body: ByteBuffer
    package var streaming: Bool
    /// `X-User-Id`: the user a service or admin token calls for.
    package var namedUser: String?
    /// The body's own user field (`user`, `metadata.user_id`).
    package var bodyUser: String?
    /// `X-Team-Id`: the team a call of a user in several teams is for.
    package var namedTeam: String?
    package var requestId: String
    /// The client's output limit (nil: the model's default), and the field it came in, for a 400 that names it.
    package var maxOutputTokens: Int?
    package var outputField = "max_tokens"
    /// The client's own timeout, when shorter than the service's.
    package var timeout: Duration?
    package var format: any ClientFormat

    package init(
        door: Call.Door, principal: Principal, modelName: String, body: ByteBuffer, streaming: Bool, namedUser: String?, bodyUser: String?,
        requestId: String, format: any ClientFormat
    ) {
        self.door = door
        self.principal = principal
        self.modelName = modelName
        self.body = body
        self.streaming = streaming
        self.namedUser = namedUser
        self.bodyUser = bodyUser
        self.requestId = requestId
        self.format = format
    }
}
