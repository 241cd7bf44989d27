import AsyncHTTPClient
import NIOCore
import Synchronization

/// Turns upstream body bytes into canonical chunks; one implementation per wire format.
package protocol ChatStreamDecoder: Sendable {
    /// Chunks completed by these bytes, in order. Throws `ProviderError` for an upstream error event.
    mutating func decode(_ bytes: ByteBuffer) throws -> [ChatCompletionChunk]
    /// Chunks still owed at the end of the body (e.g. the usage chunk).
    mutating func finish() throws -> [ChatCompletionChunk]
    /// The call's usage once known (at the end for most providers).
    var usage: Usage? { get }
}

/// The streamed answer of one upstream call, as canonical chunks, read lazily from the upstream body.
///
/// Iterate it once. Stopping early or cancelling the iterating task cancels the upstream request.
/// The last chunk carries `usage` only when the client asked for it (`stream_options.include_usage`);
/// the usage is recorded either way and read from ``usage`` once iteration has ended.
/// Errors after the first chunk are thrown from the iterator as `ProviderError`.
public struct ChatChunkStream: AsyncSequence, Sendable {
    public typealias Element = ChatCompletionChunk

    private let body: HTTPClientResponse.Body
    private let decoder: any ChatStreamDecoder
    private let apiKey: Secret?
    private let recorder = StreamUsageBox()

    package init(body: HTTPClientResponse.Body, decoder: any ChatStreamDecoder, apiKey: Secret?) {
        self.body = body
        self.decoder = decoder
        self.apiKey = apiKey
    }

    /// The upstream's token counts for the whole call, available after iteration has finished
    /// (nil before then, or when the upstream sent none). This is what usage recording should read.
    public var usage: Usage? { recorder.usage }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: body.makeAsyncIterator(), decoder: decoder, apiKey: apiKey, recorder: recorder)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        private var body: HTTPClientResponse.Body.AsyncIterator
        private var decoder: any ChatStreamDecoder
        private let apiKey: Secret?
        private let recorder: StreamUsageBox
        private var ready: [ChatCompletionChunk] = []
        private var readyIndex = 0
        private var ended = false

        fileprivate init(body: HTTPClientResponse.Body.AsyncIterator, decoder: any ChatStreamDecoder, apiKey: Secret?, recorder: StreamUsageBox) {
            self.body = body
            self.decoder = decoder
            self.apiKey = apiKey
            self.recorder = recorder
        }

        public mutating func next() async throws -> ChatCompletionChunk? {
            while true {
                if readyIndex < ready.count {
                    defer { readyIndex += 1 }
                    return ready[readyIndex]
                }
                if ended { return nil }
                ready.removeAll(keepingCapacity: true)
                readyIndex = 0
                let buffer: ByteBuffer?
                do {
                    buffer = try await body.next()
                } catch {
                    ended = true
                    throw UpstreamClient.providerError(for: error, apiKey: apiKey)
                }
                do {
                    if let buffer {
                        ready = try decoder.decode(buffer)
                    } else {
                        ended = true
                        ready = try decoder.finish()
                    }
                } catch {
                    ended = true
                    throw error
                }
                recorder.record(decoder.usage)
            }
        }
    }
}

/// Shares the final usage between the iterator (writer) and the stream value the caller holds (reader).
private final class StreamUsageBox: Sendable {
    private let value = Mutex<Usage?>(nil)

    package var usage: Usage? { value.withLock { $0 } }

    package func record(_ usage: Usage?) {
        guard let usage else { return }
        value.withLock { $0 = usage }
    }
}
