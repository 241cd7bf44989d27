import Hummingbird

/// Request context that can close the client's connection, so a `drop` model answers with nothing at all.
public struct FakeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Closes the connection this request arrived on (the channel type stays hidden to keep NIO out of the dependencies).
    public let dropConnection: @Sendable () async -> Void

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let channel = source.channel
        self.dropConnection = { try? await channel.close() }
    }
}
