import Foundation
import Tracing

/// The gateway's spans: one per upstream attempt and one for key resolution, with GenAI attributes.
///
/// When tracing is off every method returns at once without touching the tracer, so an instance
/// without `OTEL_EXPORTER_OTLP_ENDPOINT` pays one branch per call. Never a secret, prompt or user id.
public struct GatewayTracing: Sendable {
    public let enabled: Bool

    public init(enabled: Bool) {
        self.enabled = enabled
    }

    public static let disabled = GatewayTracing(enabled: false)

    /// Wraps the key lookup; the span says which source served (user, shared, env), never the key.
    package func keyResolution<T>(provider: ProviderKind, requestId: String?, _ body: () throws -> T, source: (T) -> KeySource) throws -> T {
        guard enabled else { return try body() }
        return try withSpan("gen_ai.key_resolution", ofKind: .internal) { span in
            span.attributes["gen_ai.provider.name"] = provider.rawValue
            span.attributes["model_service.request_id"] = requestId
            let result = try body()
            span.attributes["model_service.key.source"] = source(result).rawValue
            return result
        }
    }

    /// Starts the span of one upstream attempt, named `{operation} {model}` as the GenAI conventions ask.
    package func startAttempt(model: Model, operation: String, streamed: Bool, requestId: String?) -> (any Span)? {
        guard enabled else { return nil }
        let span = startSpan("\(operation) \(model.name)", ofKind: .client)
        span.updateAttributes { attributes in
            attributes["gen_ai.operation.name"] = operation
            attributes["gen_ai.request.model"] = model.name
            attributes["gen_ai.provider.name"] = model.provider.rawValue
            attributes["gen_ai.system"] = model.provider.rawValue
            attributes["model_service.upstream.model"] = model.modelId
            attributes["model_service.streamed"] = streamed
            attributes["model_service.request_id"] = requestId
        }
        return span
    }

    /// Ends an attempt span with what the upstream answered.
    package func endAttempt(_ span: (any Span)?, usage: Usage?, responseModel: String?, status: Int, errorKind: String?) {
        guard let span else { return }
        span.updateAttributes { attributes in
            if let usage {
                attributes["gen_ai.usage.input_tokens"] = usage.promptTokens
                attributes["gen_ai.usage.output_tokens"] = usage.completionTokens
            }
            attributes["gen_ai.response.model"] = responseModel
            attributes["http.response.status_code"] = status
            attributes["error.type"] = errorKind
        }
        if errorKind != nil { span.setStatus(.init(code: .error)) }
        span.end()
    }
}
