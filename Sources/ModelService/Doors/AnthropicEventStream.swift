import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ModelServiceCore

/// The `/v1/messages` SSE answer: relayed events or translated chunks written to the client, the
/// call settled once from the stream's own end (done, upstream error, client gone).
enum AnthropicEventStream {
    static func response(
        _ events: AnthropicMessagesController.Events, model: Model, pipeline: CallPipeline, settlement: CallSettlement, logger: Logger
    ) -> Response {
        let body = ResponseBody { writer in
            // Time to first token, measured at the first upstream bytes as the chat door does.
            var first = true
            let firstChunk = {
                if first { pipeline.firstChunk(of: settlement.call, model: model) }
                first = false
            }
            switch events {
            case .relayed(let upstream, let apiKey):
                await relay(upstream, apiKey: apiKey, model: model, settlement: settlement, writer: &writer, logger: logger, firstChunk: firstChunk)
            case .translated(let stream):
                await translate(stream, model: model, settlement: settlement, writer: &writer, logger: logger, firstChunk: firstChunk)
            }
            try await writer.finish(nil)
        }
        return Response.eventStream(answeredBy: model, body: body)
    }

    /// The upstream's events as they come; a transport failure after the head becomes `event: error`.
    private static func relay(
        _ upstream: HTTPClientResponse.Body, apiKey: Secret?, model: Model, settlement: CallSettlement, writer: inout some ResponseBodyWriter,
        logger: Logger, firstChunk: () -> Void
    ) async {
        var relay = AnthropicRelayEvents(model: model.name)
        var iterator = upstream.makeAsyncIterator()
        do {
            while true {
                let buffer: ByteBuffer?
                do {
                    buffer = try await iterator.next()
                } catch {
                    throw UpstreamClient.providerError(for: error, apiKey: apiKey)
                }
                guard let buffer else { break }
                firstChunk()
                try await write(try relay.push(buffer), settlement: settlement, writer: &writer)
            }
            try await write(relay.finish(), settlement: settlement, writer: &writer)
            if let error = relay.upstreamError {
                // Already relayed as the upstream's own `error` event.
                settlement.settle(.failed(ServiceError(error, model: model, key: nil)))
            } else if !relay.stopped {
                throw ProviderError.invalidResponse("the stream ended before message_stop")
            } else {
                settlement.settle(.success(relay.recordedUsage))
            }
        } catch let error as ProviderError {
            await fail(error, model: model, settlement: settlement, writer: &writer)
        } catch {
            // The client went away; leaving the loop cancels the upstream request.
            settlement.settle(.clientGone(relay.recordedUsage))
            logger.debug("messages stream ended early", metadata: ["error.type": "\(type(of: error))"])
        }
    }

    /// Canonical chunks as Anthropic events; a mid-stream upstream failure becomes `event: error`.
    private static func translate(
        _ stream: ChatChunkStream, model: Model, settlement: CallSettlement, writer: inout some ResponseBodyWriter, logger: Logger,
        firstChunk: () -> Void
    ) async {
        var translator = AnthropicStreamTranslator(model: model.name)
        do {
            try await write(translator.start(), settlement: settlement, writer: &writer)
            for try await chunk in stream {
                firstChunk()
                try await write(translator.translate(chunk), settlement: settlement, writer: &writer)
            }
            try await write(translator.finish(usage: stream.usage), settlement: settlement, writer: &writer)
            settlement.settle(.success(stream.usage))
        } catch let error as ProviderError {
            await fail(error, model: model, settlement: settlement, writer: &writer)
        } catch {
            settlement.settle(.clientGone(stream.usage))
            logger.debug("messages stream ended early", metadata: ["error.type": "\(type(of: error))"])
        }
    }

    private static func write(_ frames: [ByteBuffer], settlement: CallSettlement, writer: inout some ResponseBodyWriter) async throws {
        for frame in frames {
            settlement.received(bytes: frame.readableBytes)
            try await writer.write(frame)
        }
    }

    /// The status is already 200, so a failure is said as `event: error` in Anthropic's shape.
    private static func fail(_ error: ProviderError, model: Model, settlement: CallSettlement, writer: inout some ResponseBodyWriter) async {
        let failure = ServiceError(error, model: model, key: nil)
        settlement.settle(.failed(failure))
        try? await writer.write(AnthropicStreamTranslator.frame(event: "error", json: WireError.json(failure, shape: .anthropic).readableBytesView))
    }
}
