import NIOCore

/// One admitted client call as the pipeline sees it, whatever door it came in by.
///
/// The door decodes only what routing needs and keeps the client's bytes in `body`, so an
/// upstream of the client's own format receives them as sent; its codec (`format`) writes the answer.
public struct Call: Sendable {
    /// The front door, which also fixes the wire format of `body`.
    public enum Door: String, Sendable {
        case chatCompletions = "chat"
        case embeddings
        case responses
        case messages
        /// The console's "Test" button: an OpenAI-format chat made by the server for a signed-in admin.
        case console

        /// The `door` label of metrics.
        public var metricsLabel: String { self == .chatCompletions ? "chat.completions" : rawValue }

        /// The GenAI `gen_ai.operation.name` of a call through this door.
        public var operationName: String { self == .embeddings ? "embeddings" : "chat" }

        /// The registry mode a model needs to be called through this door.
        public var mode: ModelMode { self == .embeddings ? .embedding : .chat }

        /// True when a `provider` model gets the client's own bytes (same wire format), so a field the
        /// provider would refuse is refused here too; otherwise the call is translated.
        package func relaysAsSent(to provider: ProviderKind) -> Bool {
            switch self {
            case .chatCompletions, .console: ProviderAdapters.speaksOpenAIChat(provider)
            case .messages: provider == .anthropic
            case .responses, .embeddings: true
            }
        }
    }

    public var door: Door
    public var principal: Principal
    /// The user the call is for (a user token's own, or the one a service or admin token named).
    public var userId: String?
    /// The model the client asked for; a fallback may answer instead.
    public var model: Model
    /// The client's request body as sent.
    public var body: ByteBuffer
    public var streaming: Bool
    public var requestId: String
    public var started: ContinuousClock.Instant
    /// When the call gives up waiting for an upstream to answer, every retry and fallback included:
    /// `UPSTREAM_TIMEOUT_SECONDS` after it started, or sooner when the client's own timeout is shorter.
    public var deadline: ContinuousClock.Instant
    /// What traffic control reserved and counted at admission, settled once with the call.
    public var admission = TrafficControl.Admission()
    /// The model, then its active fallbacks whose providers serve this door, each as its deployments in the
    /// order the route step chose (``DeploymentRouter``): worked out once, at admission.
    package var candidates: [Model]
    /// The conversation the call belongs to, for prompt-cache affinity (nil when no candidate has a choice of deployments).
    package var conversation: Int?
    /// The team the call is for (``CallPipeline/team(for:userId:named:)``): its keys and budgets apply.
    public var teamId: String? = nil
    /// The door's codec, prepared for these candidates.
    package var format: any ClientFormat

    /// The client's own timeout, as the official SDKs announce it (`X-Stainless-Timeout`, in seconds):
    /// read saturating, and only ever shortening the service's.
    public static func clientTimeout(_ header: String?) -> Duration? {
        guard let text = header, let seconds = Double(text), seconds > 0 else { return nil }
        return .milliseconds(Saturating.int(seconds * 1000, in: 1...Int(Int32.max)))
    }
}
