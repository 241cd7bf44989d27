import Foundation
import Logging
import OTel
import ServiceLifecycle
import Synchronization
import Tracing

/// Installs the OpenTelemetry tracer (OTLP over HTTP) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
///
/// The tracing system can be bootstrapped once per process; the first application that asks gets
/// the exporter service for its service group, later ones (tests) share that tracer.
package enum TracingBootstrap {
    private static let bootstrapped = Mutex(false)

    /// The exporter service to run in the service group, or nil when the tracer was already installed.
    package static func start(_ settings: ObservabilitySettings, logger: Logger) throws -> (any Service)? {
        guard let endpoint = settings.otlpEndpoint else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        // OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: OTLP/HTTP sends traces to `v1/traces` under it.
        configuration.traces.otlpExporter.endpoint = endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
        configuration.traces.otlpExporter.protocol = settings.otlpJSON ? .httpJSON : .httpProtobuf
        if let delay = settings.batchDelay { configuration.traces.batchSpanProcessor.scheduleDelay = delay }
        return try bootstrapped.withLock { done -> (any Service)? in
            guard !done else { return nil }
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(backend.factory)
            done = true
            return backend.service
        }
    }
}
