import AsyncHTTPClient
import NIOCore

/// Shuts the shared `HTTPClient` down when the last component holding it goes away.
///
/// The service group's ``HTTPClientService`` shuts it down gracefully; this covers components made
/// without a service group (one-shot commands, tests), where AsyncHTTPClient would otherwise trap
/// on a client released while running. A second shutdown only reports `alreadyShutdown`.
package final class HTTPClientLifetime: Sendable {
    package let client: HTTPClient

    package init(client: HTTPClient) {
        self.client = client
    }

    deinit {
        let future: EventLoopFuture<Void> = client.shutdown()
        future.whenComplete { _ in }
    }
}
