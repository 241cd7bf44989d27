import AsyncHTTPClient
import NIOCore

/// An upstream's event stream relayed as bytes (the Responses and Messages APIs to clients of the same
/// format): read lazily, a transport failure after the head thrown as the ``ProviderError`` it means.
///
/// Iterate it once; stopping early or cancelling the iterating task cancels the upstream request.
package struct RawEventStream: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer

    private let body: HTTPClientResponse.Body
    private let apiKey: Secret?

    package init(body: HTTPClientResponse.Body, apiKey: Secret?) {
        self.body = body
        self.apiKey = apiKey
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: body.makeAsyncIterator(), apiKey: apiKey)
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate var body: HTTPClientResponse.Body.AsyncIterator
        fileprivate let apiKey: Secret?

        package mutating func next() async throws -> ByteBuffer? {
            do {
                return try await body.next()
            } catch {
                throw UpstreamClient.providerError(for: error, apiKey: apiKey)
            }
        }
    }
}
