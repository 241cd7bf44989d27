import Foundation
import ModelServiceCore

/// The console's "Test" button: one short prompt through the gateway, as the caller.
///
/// The only place the console calls the gateway, so re-pointing it at another call pipeline is a
/// change of this one function.
enum ConsoleGatewayProbe {
    struct Outcome: Sendable {
        var answer: String?
        var error: String?
        var latencyMs: Int
        var cost: Double?
        var promptTokens: Int?
        var completionTokens: Int?
    }

    static let prompt = "Reply with one short sentence: are you there?"

    static func run(model: Model, principal: Principal, pipeline: CallPipeline) async -> Outcome {
        let clock = ContinuousClock()
        let started = clock.now
        var request = ChatCompletionRequest(model: model.name, messages: [.text(.user, prompt)])
        request.maxTokens = 64
        do {
            // No `clientJSON`: the page shows the answer's text, so the answer is decoded, not relayed as bytes.
            var call = CallRequest(
                door: .console, principal: principal, modelName: model.name, body: try ProviderJSON.encodeBuffer(request), streaming: false,
                namedUser: nil, bodyUser: nil, requestId: RandomIdentifier.timeOrderedUUID(), format: OpenAIChatCodec(request: request))
            call.maxOutputTokens = request.maxTokens
            guard case .answer(let body, let answered) = try await pipeline.start(call) else { throw ServiceError(.internalError, "no answer") }
            let response = try ProviderJSON.decode(ChatCompletionResponse.self, from: body)
            let usage = response.usage
            return Outcome(
                answer: response.choices.first?.message.content?.text ?? "",
                latencyMs: Self.millis(clock.now - started),
                cost: usage.flatMap { answered.cost($0) },
                promptTokens: usage?.promptTokens, completionTokens: usage?.completionTokens
            )
        } catch let error as ServiceError {
            return Outcome(error: error.message, latencyMs: Self.millis(clock.now - started))
        } catch {
            return Outcome(error: "The call failed.", latencyMs: Self.millis(clock.now - started))
        }
    }

    private static func millis(_ duration: Duration) -> Int {
        Saturating.milliseconds(duration)
    }
}
