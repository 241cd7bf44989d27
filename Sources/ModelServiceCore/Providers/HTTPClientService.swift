import AsyncHTTPClient
import ServiceLifecycle

/// Keeps the shared `HTTPClient` alive for the service group's lifetime and shuts it down last.
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
