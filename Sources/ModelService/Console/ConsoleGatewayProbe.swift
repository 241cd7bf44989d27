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
            let bytes = try ProviderJSON.encodeBuffer(request)
            let call = try await pipeline.admit(
                door: .console, modelName: model.name, body: bytes, streaming: false, principal: principal, namedUser: nil, bodyUser: nil,
                requestId: RandomIdentifier.timeOrderedUUID())
            let settlement = pipeline.settlement(for: call)
            let upstream = pipeline.upstream
            let clientRequest = request
            let (answered, response) = try await pipeline.run(call, settlement: settlement) { candidate, target in
                let adapter = ProviderAdapters.adapter(for: candidate.provider)
                return (candidate, try await adapter.complete(ChatDefaults.apply(to: clientRequest, model: candidate), target: target, client: upstream))
            }
            settlement.settle(.success(response.usage))
            let usage = response.usage
            return Outcome(
                answer: response.choices.first?.message.content?.text ?? "",
                latencyMs: Self.millis(clock.now - started),
                cost: usage.map { answered.cost(promptTokens: $0.promptTokens, completionTokens: $0.completionTokens) },
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
